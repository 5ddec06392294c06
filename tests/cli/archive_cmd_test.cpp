// `hubbatch archive` as a user runs it: flags, exit codes, stdin, secrets.
#include "sandbox/config.hpp"
#include "sandbox/server.hpp"
#include "support/cli_sandbox.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

using namespace hubbatch;
namespace fs = std::filesystem;

namespace {

const char* token = "pat-na1-SECRET-CANARY-0123456789";

// 3 to-ids per from-id, random to-ids (seeded by n).
std::vector<pair_id> random_pairs(std::size_t n) {
  std::mt19937_64 rng(n);
  std::vector<pair_id> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back({100 + i / 3, 1'000'000 + rng() % 1'000'000'000});
  return v;
}

struct fixture : test::cli_sandbox {
  explicit fixture(std::size_t n, sandbox::config sc = {}) : cli_sandbox(random_pairs(n), std::move(sc)) {}

  test::process_spec archive(std::vector<std::string> extra = {}) const {
    test::process_spec s;
    s.args = {HUBBATCH_BINARY, "archive", "--from-type", "contacts", "--to-type", "companies", "--ca-file",
              file("ca.pem")};
    s.args.insert(s.args.end(), extra.begin(), extra.end());
    // Defaults for what the test did not set (a flag given twice is a usage error).
    auto has = [&](const char* flag) { return std::find(extra.begin(), extra.end(), flag) != extra.end(); };
    if (!has("--base-url")) s.args.insert(s.args.end(), {"--base-url", sb->base_url()});
    if (!has("--rate")) s.args.insert(s.args.end(), {"--rate", "0"});
    s.env = {{"HUBSPOT_ACCESS_TOKEN", token}};
    s.stdout_path = file("out.txt");
    s.stderr_path = file("err.txt");
    return s;
  }
  std::string out() const { return test::slurp(file("out.txt")); }
  std::string err() const { return test::slurp(file("err.txt")); }
};

}  // namespace

TEST(archive_cli, bad_flags_print_usage_and_exit_2) {
  fixture f(10);
  auto s = f.archive({"--input", f.file("pairs.csv"), "--bogus"});
  EXPECT_EQ(test::run(s), 2);
  EXPECT_NE(f.err().find("--bogus"), std::string::npos) << f.err();
  EXPECT_NE(f.err().find("--help"), std::string::npos) << f.err();
  for (std::vector<std::string> bad : {std::vector<std::string>{"--connections", "0"},
                                       {"--rate", "fast"},
                                       {"--api-version", "v3"},
                                       {"--deadline", "soon"},
                                       {"--deadline", "1e300h"},  // would overflow nanoseconds
                                       {"--max-retry-after", "-1s"},
                                       {"--max-retry-after", "0"},
                                       {"--throttle-timeout", "forever"},
                                       {"--resume", "--restart", "--report", "r.json"}}) {
    auto t = f.archive({"--input", f.file("pairs.csv")});
    t.args.insert(t.args.end(), bad.begin(), bad.end());
    EXPECT_EQ(test::run(t), 2) << bad[0];
  }
}

TEST(archive_cli, configuration_errors_exit_2_naming_the_problem) {
  fixture f(10);
  auto s = f.archive({"--input", f.file("missing.csv")});
  EXPECT_EQ(test::run(s), 2);
  EXPECT_NE(f.err().find("missing.csv"), std::string::npos) << f.err();

  s = f.archive({"--input", f.file("pairs.csv")});
  s.args[3] = "../../etc";  // --from-type
  EXPECT_EQ(test::run(s), 2);
  EXPECT_NE(f.err().find("--from-type"), std::string::npos) << f.err();

  s = f.archive({"--input", f.file("pairs.csv")});
  s.env.clear();
  s.unset_env = {"HUBSPOT_ACCESS_TOKEN"};
  EXPECT_EQ(test::run(s), 2);
  EXPECT_NE(f.err().find("HUBSPOT_ACCESS_TOKEN"), std::string::npos) << f.err();

  s = f.archive({"--input", f.file("pairs.csv"), "--base-url", "http://example.com"});
  EXPECT_EQ(test::run(s), 2);
  EXPECT_NE(f.err().find("http://"), std::string::npos) << f.err();
}

TEST(archive_cli, full_run_writes_report_and_exits_0) {
  fixture f(3000);
  auto s = f.archive({"--input", f.file("pairs.csv"), "--report", f.file("report.json")});
  ASSERT_EQ(test::run(s), 0) << f.err();
  std::string report = test::slurp(f.file("report.json"));
  EXPECT_NE(report.find("\"archived_pairs\": 3000"), std::string::npos) << report;
  EXPECT_NE(report.find("\"invariant_ok\": true"), std::string::npos);
  EXPECT_NE(f.err().find("accounting    ok"), std::string::npos) << f.err();
  EXPECT_TRUE(f.sb->remaining_pairs("contacts", "companies").empty());
}

TEST(archive_cli, token_file_is_used_and_world_readable_file_warns) {
  fixture f(50);
  {
    std::ofstream t(f.file("token"));
    t << token << "\n";
  }
  fs::permissions(f.file("token"), fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
  auto s = f.archive({"--input", f.file("pairs.csv"), "--token-file", f.file("token")});
  s.env.clear();
  s.unset_env = {"HUBSPOT_ACCESS_TOKEN"};
  EXPECT_EQ(test::run(s), 0) << f.err();
  EXPECT_NE(f.err().find("readable by other users"), std::string::npos) << f.err();
  EXPECT_EQ(f.err().find(token), std::string::npos);
}

TEST(archive_cli, rejected_token_exits_4_and_the_token_is_never_printed) {
  sandbox::config sc;
  sc.tokens = {"pat-the-right-one"};
  fixture f(200, sc);
  auto s = f.archive({"--input", f.file("pairs.csv"), "--report", f.file("report.json"), "--failures",
                      f.file("failures.csv"), "--journal", f.file("journal")});
  EXPECT_EQ(test::run(s), 4);
  EXPECT_NE(f.err().find("INVALID_AUTHENTICATION"), std::string::npos) << f.err();
  for (const char* name : {"out.txt", "err.txt", "report.json", "failures.csv", "journal"})
    EXPECT_EQ(test::slurp(f.file(name)).find("SECRET-CANARY"), std::string::npos) << name;
}

TEST(archive_cli, stdin_pipe_is_flushed_after_it_goes_idle) {
  fixture f(500);
  // The writer keeps the pipe open for a while after the last line: the pairs
  // must go out after the idle linger, not only at end of input.
  std::string cmd = "(cat '" + f.file("pairs.csv") + "'; sleep 4) | exec '" + HUBBATCH_BINARY +
                    "' archive --from-type contacts --to-type companies --input - --base-url " + f.sb->base_url() +
                    " --ca-file '" + f.file("ca.pem") + "' --rate 0";
  test::process_spec s;
  s.args = {"/bin/sh", "-c", cmd};
  s.env = {{"HUBSPOT_ACCESS_TOKEN", token}};
  s.stderr_path = f.file("err.txt");
  test::process p(s);
  bool archived_while_open = false;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < until && p.running()) {
    if (f.sb->stats().archived_pairs == f.pairs.size()) {
      archived_while_open = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(archived_while_open) << "pairs waited for end of input";
  EXPECT_TRUE(p.running()) << "the pipe was still open";
  EXPECT_EQ(p.wait(std::chrono::seconds(30)), 0) << f.err();
}

TEST(archive_cli, deadline_stops_with_exit_3_resumable) {
  sandbox::config sc;
  sc.rate = *sandbox::parse_rate("10/1s");
  fixture f(2000, sc);
  auto s = f.archive({"--input", f.file("pairs.csv"), "--report", f.file("report.json"), "--batch-size", "5",
                      "--rate", "auto", "--deadline", "1500ms"});
  EXPECT_EQ(test::run(s), 3) << f.err();
  EXPECT_NE(f.err().find("--resume"), std::string::npos) << f.err();
  EXPECT_NE(test::slurp(f.file("report.json")).find("\"stop_reason\": \"deadline\""), std::string::npos);
}

TEST(archive_cli, daily_reserve_leaves_the_rest_of_the_budget) {
  sandbox::config sc;
  sc.daily = 60;
  fixture f(2000, sc);
  auto s = f.archive({"--input", f.file("pairs.csv"), "--report", f.file("report.json"), "--batch-size", "5",
                      "--connections", "1", "--daily-reserve", "50"});
  EXPECT_EQ(test::run(s), 3) << f.err();
  EXPECT_NE(test::slurp(f.file("report.json")).find("\"stop_reason\": \"daily_reserve\""), std::string::npos);
  EXPECT_EQ(f.sb->stats().accepted, 10u) << "60 a day, 50 left for others";
  EXPECT_NE(f.err().find("--resume"), std::string::npos) << f.err();
}
