#include "engine/failures_file.hpp"

#include "io/pair_reader.hpp"
#include "support/test_data.hpp"

#include <gtest/gtest.h>

#include <fstream>
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
            "from_id,to_id,outcome,category,http_status,message,line,text\n"
            "1,2,failed,VALIDATION_ERROR,400,\"bad, very\",7,\n"
            "3,4,failed,VALIDATION_ERROR,400,\"bad, very\",9,\n"
            "1,2,pending,interrupted,,SIGINT,,\n"
            ",,rejected,bad_id,,line 12: id is not 1-20 decimal digits: 1O1,12,\"1O1,\"\"9001\"\"\"\n"
            ",,rejected,line_too_long,,b.csv: line 13: line too long: 777...,13,777 [cut]\n");
}
