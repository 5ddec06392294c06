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

std::vector<pair_id> sequential_pairs(std::size_t n) {
  std::vector<pair_id> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back({100 + i, 5000 + i});
  return v;
}

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
                                               "line", "text"}));
  ASSERT_EQ(rows.size(), 1u + 1u + 3u) << test::slurp(f.file("failures.csv"));  // pair 105,5005 and 3 rejected
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];
    ASSERT_EQ(r.size(), 8u);
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
