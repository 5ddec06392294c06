// `hubbatch archive` and its input as a user meets it (issue 11): reject
// reason codes, the failures file as a fix-and-retry list, named columns and
// separators.
#include "support/cli_sandbox.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace hubbatch;

namespace {

using test::sequential_pairs;

struct fixture : test::cli_sandbox {
  explicit fixture(std::size_t n, sandbox::config sc = {}) : cli_sandbox(sequential_pairs(n), std::move(sc)) {}

  // An archive run of `input` with the test's flags (no journal, unpaced).
  test::process_spec spec(const std::string& input, std::vector<std::string> extra = {}) const {
    test::process_spec s;
    s.args = {HUBBATCH_BINARY, "archive", "--from-type", "contacts", "--to-type", "companies", "--ca-file",
              file("ca.pem"),  "--base-url", sb->base_url(), "--input", input, "--rate", "0"};
    s.args.insert(s.args.end(), extra.begin(), extra.end());
    s.env = {{"HUBSPOT_ACCESS_TOKEN", "pat-test"}};
    s.stdout_path = file("out.txt");
    s.stderr_path = file("err.txt");
    return s;
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(file(name), std::ios::binary) << text;
    return file(name);
  }
  std::string out() const { return test::slurp(file("out.txt")); }
  std::string err() const { return test::slurp(file("err.txt")); }
};

// RFC 4180 rows (quoted fields may hold commas, quotes and newlines).
std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1, std::vector<std::string>(1));
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        rows.back().back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        rows.back().back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().emplace_back();
    } else if (c == '\n') {
      rows.emplace_back(1);
    } else {
      rows.back().back() += c;
    }
  }
  if (rows.back().size() == 1 && rows.back()[0].empty()) rows.pop_back();
  return rows;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace

// Issue 11 item 9: codes in the report, the metrics and the failures file's
// category; the sentence for people on stderr and in the message.
TEST(input_cli, issue_11_reject_reasons_are_codes_with_a_sentence_for_people) {
  fixture f(10);
  const std::string input = f.write("in.csv", "from_id,to_id\n100,5000\nabc,5001\n");
  auto s = f.spec(input, {"--report", f.file("report.json"), "--failures", f.file("failures.csv"), "--metrics-file",
                          f.file("m.prom"), "--no-journal"});
  ASSERT_EQ(test::run(s), 1) << f.err();
  EXPECT_NE(f.err().find("in.csv:3: rejected: bad_id: id is not 1-20 decimal digits: abc"), std::string::npos)
      << f.err();
  EXPECT_NE(test::slurp(f.file("report.json")).find(R"("rejected_by_reason": {"bad_id": 1})"), std::string::npos)
      << test::slurp(f.file("report.json"));
  EXPECT_NE(test::slurp(f.file("m.prom")).find(R"(hubbatch_rejected_lines_by_reason_total{reason="bad_id"} 1)"),
            std::string::npos)
      << test::slurp(f.file("m.prom"));
  auto rows = csv_rows(test::slurp(f.file("failures.csv")));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1][3], "bad_id");
  EXPECT_EQ(rows[1][5], "line 3: id is not 1-20 decimal digits: abc");
}

// Issue 11 item 6: every row of the failures file names its input line, and
// a rejected row keeps the line itself.
TEST(input_cli, issue_11_every_failures_row_carries_its_input_line) {
  sandbox::config sc;
  sc.reject_ids = {105};  // 400 VALIDATION_ERROR for from-id 105: those pairs fail
  fixture f(20, sc);
  std::string text = test::slurp(f.file("pairs.csv"));
  text += "1O1,5001\n\"7\";8\n" + std::string(5000, '9') + ",1\n";
  const std::string input = f.write("in.csv", text);
  auto s = f.spec(input, {"--failures", f.file("failures.csv")});
  ASSERT_EQ(test::run(s), 1) << f.err();
  const auto in = lines_of(text);
  const auto rows = csv_rows(test::slurp(f.file("failures.csv")));
  ASSERT_EQ(rows[0], (std::vector<std::string>{"from_id", "to_id", "outcome", "category", "http_status", "message",
                                               "line", "text", "association_category", "association_type_id"}));
  ASSERT_EQ(rows.size(), 1u + 1u + 3u) << test::slurp(f.file("failures.csv"));  // pair 105,5005 and 3 rejected
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];
    ASSERT_EQ(r.size(), 10u);
    EXPECT_EQ(r[8] + r[9], "") << "untyped pairs and rejected lines have no type";
    const std::size_t line = std::stoul(r[6]);
    ASSERT_GE(line, 2u);
    ASSERT_LE(line, in.size());
    if (r[2] == "rejected") {
      if (r[3] == "line_too_long") {
        EXPECT_EQ(r[7], std::string(256, '9') + " [cut]");
      } else {
        EXPECT_EQ(r[7], in[line - 1]);
      }
    } else {
      EXPECT_EQ(r[0] + "," + r[1], in[line - 1]);
      EXPECT_EQ(r[7], "");
    }
  }
}

// Issue 11 item 4: a headerless file with an index column is not archived as
// (index, from); named, it is read right, and the run says which columns.
TEST(input_cli, issue_11_an_index_column_is_never_taken_as_the_from_id) {
  fixture f(3);
  const std::string input = f.write("indexed.csv", "1,100,5000\n2,101,5001\n3,102,5002\n");
  auto s = f.spec(input, {"--report", f.file("r1.json"), "--no-journal"});
  ASSERT_EQ(test::run(s), 1) << f.err();
  EXPECT_NE(f.err().find("indexed.csv:1: rejected: unnamed_columns: "), std::string::npos) << f.err();
  EXPECT_NE(f.err().find("--columns"), std::string::npos) << f.err();
  EXPECT_NE(test::slurp(f.file("r1.json")).find(R"("archived_pairs": 0,)"), std::string::npos);

  s = f.spec(input, {"--columns", "index,from,to", "--report", f.file("r2.json"), "--no-journal"});
  ASSERT_EQ(test::run(s), 0) << f.err();
  const std::string report = test::slurp(f.file("r2.json"));
  EXPECT_NE(report.find(R"("archived_pairs": 3,)"), std::string::npos) << report;
  EXPECT_NE(report.find(R"("already_absent_pairs": 0,)"), std::string::npos) << report;  // the seeded pairs
  EXPECT_NE(report.find(R"x("input_columns": "from (2), to (3); ignored: index (1)")x"), std::string::npos) << report;
  EXPECT_NE(f.err().find("  columns       from (2), to (3); ignored: index (1)\n"), std::string::npos) << f.err();
}

TEST(input_cli, issue_11_a_header_says_which_columns_in_the_plan_and_the_summary) {
  fixture f(3);
  const std::string input = f.write("h.csv", "from_id,index,to_id\n100,1,5000\n101,2,5001\n");
  auto s = f.spec(input, {"--plan"});
  ASSERT_EQ(test::run(s), 0) << f.err();
  EXPECT_NE(f.out().find("columns       from_id (1), to_id (3); ignored: index (2)\n"), std::string::npos) << f.out();
  s = f.spec(input);
  ASSERT_EQ(test::run(s), 0) << f.err();
  EXPECT_NE(f.err().find("  columns       from_id (1), to_id (3); ignored: index (2)\n"), std::string::npos) << f.err();
}

TEST(input_cli, issue_11_columns_and_delimiter_are_validated) {
  fixture f(3);
  for (std::vector<std::string> bad : {std::vector<std::string>{"--columns", "index,from"},
                                       {"--columns", "from,to,to_id"},
                                       {"--columns", "from,,to"},
                                       {"--columns", "from,to", "--format", "ndjson"},
                                       {"--delimiter", ";;"},
                                       {"--delimiter", "\""},
                                       {"--delimiter", "7"},
                                       {"--delimiter", ";", "--format", "tsv"}}) {
    auto s = f.spec(f.file("pairs.csv"), bad);
    EXPECT_EQ(test::run(s), 2) << bad[0] << " " << bad[1];
    EXPECT_NE(f.err().find(bad[0]), std::string::npos) << f.err();
  }
}

// Issue 11 item 8: a semicolon export is read with --delimiter, and without
// it the first rejection (and the summary) says what to do.
TEST(input_cli, issue_11_semicolon_files_get_a_hint_and_a_delimiter) {
  fixture f(3);
  const std::string input = f.write("eu.csv", "from_id;to_id\n100;5000\n101;5001\n102;5002\n");
  auto s = f.spec(input);
  ASSERT_EQ(test::run(s), 1) << f.err();
  const std::string hint = "for a semicolon-separated file use --delimiter ';'";
  std::string err = f.err();
  const auto first = err.find(hint);
  ASSERT_NE(first, std::string::npos) << err;
  EXPECT_LT(first, err.find("eu.csv:2:")) << "on the first rejection";
  EXPECT_NE(err.find("  hint          the line has semicolons"), std::string::npos) << err;  // and in the summary
  std::size_t times = 0;
  for (auto at = err.find(hint); at != std::string::npos; at = err.find(hint, at + 1)) ++times;
  EXPECT_EQ(times, 2u) << "with the first rejection and in the summary, not on every line:\n" << err;

  s = f.spec(input, {"--delimiter", ";", "--report", f.file("r.json"), "--no-journal"});
  ASSERT_EQ(test::run(s), 0) << f.err();
  EXPECT_NE(test::slurp(f.file("r.json")).find(R"("archived_pairs": 3,)"), std::string::npos);

  const std::string tabs = f.write("tabs.csv", "100\t5000\n");
  s = f.spec(tabs, {"--plan"});
  ASSERT_EQ(test::run(s), 1) << f.err();
  EXPECT_NE(f.err().find("use --format tsv"), std::string::npos) << f.err();
  EXPECT_NE(f.out().find("hint          the line has tabs and no ',': for a tab-separated file use --format tsv"),
            std::string::npos)
      << f.out();
}

// Issue 11 item 6: fix a rejected row's text by hand, feed the failures file
// back, and the fixed pairs are archived; the unfixed one comes back with
// the same text, so the loop can go round again and end.
TEST(input_cli, issue_11_a_failures_file_with_fixed_text_is_fed_back) {
  fixture f(6);
  const std::string input =
      f.write("in.csv", "from_id,to_id\n100,5000\n1O1,5001\n102;5002\n\"103\",\"50O3\"\nnonsense\n");
  auto s = f.spec(input, {"--failures", f.file("f1.csv")});
  ASSERT_EQ(test::run(s), 1) << f.err();
  std::string failures = test::slurp(f.file("f1.csv"));
  auto rows = csv_rows(failures);
  ASSERT_EQ(rows.size(), 5u) << failures;  // header + 4 rejected
  std::vector<std::string> texts;
  for (std::size_t i = 1; i < rows.size(); ++i) texts.push_back(rows[i][7]);
  EXPECT_EQ(texts, (std::vector<std::string>{"1O1,5001", "102;5002", "\"103\",\"50O3\"", "nonsense"}));

  // The fixes a person makes in the text cells (the ids cells stay empty).
  auto fix = [&](const std::string& from, const std::string& to) {
    const auto at = failures.find(from, failures.find(",rejected,"));
    ASSERT_NE(at, std::string::npos) << from;
    // The last occurrence on its row is the text cell.
    const auto row_end = failures.find('\n', at);
    const auto last = failures.rfind(from, row_end);
    failures.replace(last, from.size(), to);
  };
  fix("1O1,5001", "101,5001");
  fix("50O3", "5003");
  std::ofstream(f.file("f1.csv"), std::ios::binary | std::ios::trunc) << failures;

  s = f.spec(f.file("f1.csv"), {"--failures", f.file("f2.csv"), "--report", f.file("r.json"), "--no-journal"});
  ASSERT_EQ(test::run(s), 1) << f.err();
  const std::string report = test::slurp(f.file("r.json"));
  EXPECT_NE(report.find(R"("archived_pairs": 3,)"), std::string::npos) << report;  // 101, 102, 103
  EXPECT_NE(report.find(R"("already_absent_pairs": 0,)"), std::string::npos) << report;
  EXPECT_NE(report.find(R"("rejected_pairs": 1,)"), std::string::npos) << report;
  rows = csv_rows(test::slurp(f.file("f2.csv")));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1][7], "nonsense");  // the same text again, not the whole row of f1
  EXPECT_EQ(rows[1][6], "5");         // its line in f1.csv
}
