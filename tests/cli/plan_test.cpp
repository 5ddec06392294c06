// `hubbatch archive --plan` against a known file: exact figures, no token,
// nothing sent.
#include "cli/plan.hpp"

#include "support/process.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

using namespace hubbatch;
namespace fs = std::filesystem;

namespace {

// 25 from-ids with two to-ids each (50 pairs), two duplicate lines, three bad
// lines: 55 data lines.
std::string known_file() {
  fs::path dir = fs::temp_directory_path() / ("hubbatch-plan-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string path = (dir / "known.csv").string();
  std::ofstream out(path);
  out << "from_id,to_id\n";
  for (int f = 1; f <= 25; ++f) out << f << ',' << 1000 + f << '\n' << f << ',' << 2000 + f << '\n';
  out << "1,1001\n3,2003\n";    // duplicates
  out << "x,1\n5\n7,abc\n";     // rejected
  return path;
}

// The value printed after `label` (labels sit in a 14-column field).
std::string line_of(const std::string& text, const std::string& label) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.size() > 14 && line.compare(0, label.size(), label) == 0 &&
        line.find_first_not_of(' ', label.size()) == 14)
      return line.substr(14);
  return "(no " + label + ")";
}

}  // namespace

TEST(plan, figures_of_a_known_file) {
  engine::archive_config cfg;
  cfg.batch_size = 10;
  auto fig = cli::plan_inputs(cfg, engine::archive_operation(), {known_file()}, true);
  EXPECT_EQ(fig.input_lines, 55u);
  EXPECT_EQ(fig.pairs, 52u);
  EXPECT_EQ(fig.rejected, 3u);
  EXPECT_EQ(fig.duplicates, 2u);
  EXPECT_EQ(fig.distinct_from_ids, 25u);
  EXPECT_EQ(fig.requests, 3u);  // 25 inputs at 10 per request
  cfg.max_pairs_per_request = 4;  // 2 inputs (4 pairs) per request
  EXPECT_EQ(cli::plan_inputs(cfg, engine::archive_operation(), {known_file()}, true).requests, 13u);
}

TEST(plan, binary_prints_the_plan_without_a_token) {
  std::string input = known_file();
  std::string out = input + ".out", err = input + ".err";
  test::process_spec s;
  s.args = {HUBBATCH_BINARY, "archive", "--plan", "--from-type", "contacts", "--to-type", "companies", "--input",
            input, "--batch-size", "10", "--rate", "190/10s", "--daily-budget", "1000"};
  s.unset_env = {"HUBSPOT_ACCESS_TOKEN"};
  s.stdout_path = out;
  s.stderr_path = err;
  EXPECT_EQ(test::run(s), 1) << test::slurp(err);  // lines were rejected
  std::string text = test::slurp(out);
  EXPECT_EQ(line_of(text, "lines"), "55");
  EXPECT_EQ(line_of(text, "pairs"), "52");
  EXPECT_EQ(line_of(text, "rejected"), "3");
  EXPECT_EQ(line_of(text, "duplicates"), "2");
  EXPECT_EQ(line_of(text, "from-ids"), "25");
  EXPECT_EQ(line_of(text, "requests"), "3 (batch size 10, group window 100000)");
  EXPECT_EQ(line_of(text, "rate"), "190/10s (--rate)");
  EXPECT_EQ(line_of(text, "duration"), "~0.2s");  // 3 requests at 19/s
  EXPECT_EQ(line_of(text, "daily budget"), "3 of 1000 requests (0.3%)");
  EXPECT_NE(test::slurp(err).find(":54: rejected:"), std::string::npos) << test::slurp(err);

  // auto rate: the 100/10s fallback, or --plan-rate; a clean file exits 0.
  std::string clean = input + ".clean.csv";
  {
    std::ofstream c(clean);
    for (int f = 1; f <= 2000; ++f) c << f << ',' << 7 << '\n';
  }
  s.args = {HUBBATCH_BINARY, "archive", "--plan", "--from-type", "contacts", "--to-type", "companies", "--input",
            clean};
  EXPECT_EQ(test::run(s), 0) << test::slurp(err);
  text = test::slurp(out);
  EXPECT_EQ(line_of(text, "requests"), "20 (batch size 100: auto starts there, so at most this many, group window 100000)");
  EXPECT_EQ(line_of(text, "duration"), "~2.0s");
  s.args.insert(s.args.end(), {"--plan-rate", "5/10s"});
  EXPECT_EQ(test::run(s), 0) << test::slurp(err);
  EXPECT_EQ(line_of(test::slurp(out), "duration"), "~40.0s");
}
