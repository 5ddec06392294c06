#include "engine/failures_file.hpp"

#include "io/pair_reader.hpp"
#include "support/test_data.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

using namespace hubbatch;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST(failures_file, csv_field_quotes_only_when_needed) {
  EXPECT_EQ(engine::csv_field("plain"), "plain");
  EXPECT_EQ(engine::csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(engine::csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(engine::csv_field("a\tb;c"), "a\tb;c");
}

// Issue 11 item 6: every row carries its input line, and a rejected row
// keeps the line as read, so it can be fixed and fed back.
TEST(failures_file, issue_11_rows_carry_the_line_and_rejected_rows_the_text) {
  test::temp_dir dir;
  const std::string path = dir.file("failures.csv");
  {
    engine::failures_file f(path);
    const pair_id ps[] = {{1, 2}, {3, 4}};
    const std::uint64_t lines[] = {7, 9};
    f.pairs(ps, lines, {engine::pair_fate::done, {}, 0, {}});  // nothing for archived pairs
    f.pairs(ps, lines, {engine::pair_fate::failed, "VALIDATION_ERROR", 400, "bad, very"});
    f.pairs({ps, 1}, {}, {engine::pair_fate::pending, "interrupted", 0, "SIGINT"});  // lines not tracked
    f.rejected("", 12, io::reject_reason::bad_id, "1O1", "1O1,\"9001\"");
    f.rejected("b.csv", 13, io::reject_reason::line_too_long, "777...", "777");
  }
  EXPECT_EQ(slurp(path),
            "from_id,to_id,outcome,category,http_status,message,line,text,association_category,association_type_id\n"
            "1,2,failed,VALIDATION_ERROR,400,\"bad, very\",7,,,\n"
            "3,4,failed,VALIDATION_ERROR,400,\"bad, very\",9,,,\n"
            "1,2,pending,interrupted,,SIGINT,,,,\n"
            ",,rejected,bad_id,,line 12: id is not 1-20 decimal digits: 1O1,12,\"1O1,\"\"9001\"\"\",,\n"
            ",,rejected,line_too_long,,b.csv: line 13: line too long: 777...,13,777 [cut],,\n");
}

namespace {

// Reads a failures file back as input, as --input does.
struct collected : io::pair_sink {
  std::vector<pair_id> pairs;
  std::vector<std::uint64_t> lines;
  std::vector<io::reject_reason> rejects;
  void on_pair(pair_id p, std::uint64_t line) override {
    pairs.push_back(p);
    lines.push_back(line);
  }
  void on_reject(std::uint64_t, io::reject_reason r, std::string_view, std::string_view) override {
    rejects.push_back(r);
  }
};

collected read_back(const std::string& path) {
  collected out;
  io::read_pairs_file(path, io::input_format::csv, out);
  return out;
}

}  // namespace

// Issue 13: a typed pair keeps its type through the failures file, so a rerun
// from it creates or removes the same label, not the default or every one.
TEST(failures_file, issue_13_typed_pairs_round_trip_with_their_type) {
  test::temp_dir dir;
  const std::string path = dir.file("failures.csv");
  const pair_id ps[] = {{1, 2, {279, assoc_category::hubspot_defined}},
                        {1, 2, {36, assoc_category::user_defined}},
                        {3, 4},
                        {5, 6, {2147483647, assoc_category::integrator_defined}},
                        {7, 8, {1, assoc_category::work}}};
  const std::uint64_t lines[] = {2, 3, 4, 5, 6};
  {
    engine::failures_file f(path);
    f.pairs(ps, lines, {engine::pair_fate::failed, "VALIDATION_ERROR", 400, "no"});
    f.pairs({ps, 2}, {}, {engine::pair_fate::pending, "interrupted", 0, "SIGINT"});
    f.rejected("", 9, io::reject_reason::bad_association_type, "type id '0' is not 1-2147483647",
               "9,10,USER_DEFINED,0");
  }
  const std::string text = slurp(path);
  EXPECT_NE(text.find("\n1,2,failed,VALIDATION_ERROR,400,no,2,,HUBSPOT_DEFINED,279\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\n3,4,failed,VALIDATION_ERROR,400,no,4,,,\n"), std::string::npos) << text;
  const collected back = read_back(path);
  std::vector<pair_id> expect(std::begin(ps), std::end(ps));
  expect.insert(expect.end(), ps, ps + 2);
  EXPECT_EQ(back.pairs, expect);
  // The rejected row is read from its text, still wrong.
  EXPECT_EQ(back.rejects, std::vector<io::reject_reason>{io::reject_reason::bad_association_type});
}

// Issue 13: a failures file written before types (8 columns) is still read
// back, its pairs untyped; its `category` column is the failure's, not a label.
TEST(failures_file, issue_13_the_old_header_is_still_read_back) {
  test::temp_dir dir;
  const std::string path = dir.file("old.csv");
  std::ofstream(path) << io::failures_header_v1 << "\n"
                      << "1,2,failed,USER_DEFINED,400,x,7,\n"
                      << ",,rejected,bad_id,,line 8: id is not 1-20 decimal digits: 1O1,8,\"101,9001\"\n";
  const collected back = read_back(path);
  EXPECT_EQ(back.pairs, (std::vector<pair_id>{{1, 2}, {101, 9001}}));
  EXPECT_TRUE(back.rejects.empty());
}
