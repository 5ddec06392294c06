// Issue 11: the mistakes operators make (an output naming the input, a
// resumed run after failures, a mistyped URL, an empty export, a failures
// file fed back) never destroy data or hide their cause.
#include "io/files.hpp"
#include "sandbox/config.hpp"
#include "sandbox/server.hpp"
#include "support/cli_sandbox.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace hubbatch;
namespace fs = std::filesystem;

namespace {

const char* token = "pat-na1-operator-0123456789";

std::vector<pair_id> pairs_of(std::size_t n) {
  std::vector<pair_id> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back({100 + i / 4, 5000 + i});
  return v;
}

struct fixture : test::cli_sandbox {
  explicit fixture(std::size_t n, sandbox::config sc = {}) : cli_sandbox(pairs_of(n), std::move(sc)) {}

  test::process_spec archive(std::vector<std::string> extra, const std::string& base_url = "",
                             const std::string& ca = "ca.pem") const {
    test::process_spec s;
    s.args = {HUBBATCH_BINARY, "archive", "--from-type", "contacts", "--to-type", "companies",
              "--ca-file",      file(ca),  "--base-url", base_url.empty() ? sb->base_url() : base_url,
              "--rate",         "0"};
    s.args.insert(s.args.end(), extra.begin(), extra.end());
    s.env = {{"HUBSPOT_ACCESS_TOKEN", token}};
    s.stdout_path = file("out.txt");
    s.stderr_path = file("err.txt");
    return s;
  }
  std::string err() const { return test::slurp(file("err.txt")); }
  std::string report() const { return test::slurp(file("report.json")); }
};

std::size_t count_lines(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// A TCP port on loopback that nothing listens on (bound, then closed).
std::uint16_t closed_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  auto port = a.local_endpoint().port();
  a.close();
  return port;
}

}  // namespace

// Item 1: --failures naming the input once left the input with only its header.
TEST(issue_11, an_output_that_is_the_input_is_refused_before_anything_is_written) {
  fixture f(200);
  const std::string input = f.file("pairs.csv");
  const std::string before = test::slurp(input);
  fs::create_hard_link(input, f.file("link.csv"));
  for (std::vector<std::string> flags : {std::vector<std::string>{"--failures", input},
                                         {"--report", f.file("./pairs.csv")},
                                         {"--journal", f.file("link.csv")},
                                         {"--metrics-file", input},
                                         {"--failures", f.file("out.csv"), "--report", f.file("out.csv")}}) {
    std::vector<std::string> args{"--input", input};
    args.insert(args.end(), flags.begin(), flags.end());
    EXPECT_EQ(test::run(f.archive(args)), 2) << flags[0];
    EXPECT_NE(f.err().find("is the same file as"), std::string::npos) << f.err();
    EXPECT_EQ(test::slurp(input), before) << flags[0];
    EXPECT_FALSE(fs::exists(f.file("out.csv")));
  }
  EXPECT_EQ(f.sb->stats().accepted, 0u) << "nothing was sent";
}

// Item 2: a resumed run kept an empty failures file and never retried.
TEST(issue_11, resume_retries_retryable_failures_and_keeps_final_ones_in_the_failures_file) {
  sandbox::config good;
  good.reject_ids = {5003};  // a 400 VALIDATION_ERROR: final, never retried
  fixture f(200, good);
  sandbox::config bad_cfg;
  bad_cfg.listen_host = "127.0.0.1";
  bad_cfg.listen_port = 0;  // an ephemeral port: 8443 may be taken
  bad_cfg.fault_5xx = 1.0;  // every request a 5xx, nothing applied
  bad_cfg.seeds.push_back({"contacts", "companies", "", f.pairs});
  sandbox::background_sandbox bad(bad_cfg);
  io::write_file_atomic(f.file("bad-ca.pem"), bad.ca_pem());

  const std::vector<std::string> job{"--input",    f.file("pairs.csv"), "--report", f.file("report.json"),
                                     "--failures", f.file("failures.csv")};
  auto first = job;
  first.insert(first.end(), {"--max-retries", "0"});
  ASSERT_EQ(test::run(f.archive(first, bad.base_url(), "bad-ca.pem")), 1) << f.err();
  EXPECT_EQ(count_lines(test::slurp(f.file("failures.csv")), ",failed,"), 200u);

  // --no-retry-failed: the failures stay, and stay listed.
  auto keep = job;
  keep.insert(keep.end(), {"--resume", "--no-retry-failed"});
  EXPECT_EQ(test::run(f.archive(keep)), 1) << f.err();
  EXPECT_EQ(count_lines(test::slurp(f.file("failures.csv")), ",failed,"), 200u) << "carried over from the journal";
  EXPECT_EQ(f.sb->stats().accepted, 0u);

  // The default retries them: all archived but the pair the server refuses.
  auto resume = job;
  resume.push_back("--resume");
  EXPECT_EQ(test::run(f.archive(resume)), 1) << f.err();
  std::string failures = test::slurp(f.file("failures.csv"));
  EXPECT_EQ(count_lines(failures, ",failed,"), 1u) << failures;
  EXPECT_NE(failures.find("VALIDATION_ERROR"), std::string::npos) << failures;
  EXPECT_NE(f.report().find("\"retried_failed_pairs\": 200"), std::string::npos) << f.report();
  EXPECT_EQ(f.sb->remaining_pairs("contacts", "companies").size(), 1u);

  // Once more: the final failure is not retried, and still listed.
  const auto accepted = f.sb->stats().accepted;
  EXPECT_EQ(test::run(f.archive(resume)), 1) << f.err();
  EXPECT_EQ(f.sb->stats().accepted, accepted) << "a final failure is not retried";
  failures = test::slurp(f.file("failures.csv"));
  EXPECT_EQ(count_lines(failures, ",failed,"), 1u) << failures;
  const std::string report = f.report();
  EXPECT_NE(report.find("\"failed_pairs\": 1,"), std::string::npos) << report;  // job_totals
  EXPECT_NE(report.find("\"invariant_ok\": true"), std::string::npos) << report;
}

// Item 3: a closed port (or a mistyped host) went through every retry of every batch.
TEST(issue_11, an_unreachable_server_stops_at_once_with_every_pair_pending) {
  fixture f(500);
  const std::string url = "https://127.0.0.1:" + std::to_string(closed_port());
  auto started = std::chrono::steady_clock::now();
  auto s = f.archive({"--input", f.file("pairs.csv"), "--report", f.file("report.json"), "--failures",
                      f.file("failures.csv")},
                     url);
  EXPECT_EQ(test::run(s), 2) << f.err();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20)) << "no retry loop";
  EXPECT_NE(f.err().find("cannot reach the server"), std::string::npos) << f.err();
  EXPECT_NE(f.err().find("refused"), std::string::npos) << "the cause, on stderr: " << f.err();
  const std::string report = f.report();
  EXPECT_NE(report.find("\"stop_reason\": \"unreachable\""), std::string::npos) << report;
  EXPECT_NE(report.find("\"pending_pairs\": 500"), std::string::npos) << report;
  EXPECT_NE(report.find("\"failed_pairs\": 0"), std::string::npos) << report;

  // Fixed URL, --resume: the job finishes.
  auto again = f.archive({"--input", f.file("pairs.csv"), "--report", f.file("report.json"), "--resume"});
  EXPECT_EQ(test::run(again), 0) << f.err();
  EXPECT_TRUE(f.sb->remaining_pairs("contacts", "companies").empty());
}

// Item 5: an empty export exited 0.
TEST(issue_11, an_empty_input_exits_1_unless_allowed) {
  fixture f(1);
  for (const char* text : {"", "from_id,to_id\n", "\n\n"}) {
    { std::ofstream(f.file("empty.csv")) << text; }
    EXPECT_EQ(test::run(f.archive({"--input", f.file("empty.csv"), "--report", f.file("report.json")})), 1);
    EXPECT_NE(f.err().find("holds no pairs"), std::string::npos) << f.err();
    EXPECT_NE(f.report().find("\"stop_reason\": \"empty_input\""), std::string::npos) << f.report();
    EXPECT_EQ(test::run(f.archive({"--input", f.file("empty.csv"), "--allow-empty", "--no-journal"})), 0) << f.err();
  }
}

// Item 6: the failures file fed back with the same --report ran into "use --resume".
TEST(issue_11, a_failures_file_fed_back_with_the_same_report_is_a_new_job) {
  sandbox::config sc;
  sc.reject_ids = {5010};
  fixture f(100, sc);
  const std::vector<std::string> out{"--report", f.file("report.json"), "--failures", f.file("failures.csv")};
  auto first = out;
  first.insert(first.begin(), {"--input", f.file("pairs.csv")});
  ASSERT_EQ(test::run(f.archive(first)), 1) << f.err();
  fs::copy_file(f.file("failures.csv"), f.file("retry.csv"));
  auto retry = out;
  retry.insert(retry.begin(), {"--input", f.file("retry.csv")});
  EXPECT_EQ(test::run(f.archive(retry)), 1) << f.err();  // the same pair fails again, as it should
  EXPECT_NE(f.report().find("\"input_pairs\": 1,"), std::string::npos) << f.report();
  EXPECT_EQ(f.err().find("--resume to continue"), std::string::npos) << f.err();
}

TEST(issue_11, an_unfinished_job_in_the_journal_is_never_replaced_by_another_input) {
  sandbox::config sc;
  sc.daily = 2;  // the job stops on the daily limit, unfinished
  fixture f(100, sc);
  auto first = f.archive({"--input", f.file("pairs.csv"), "--report", f.file("report.json"), "--batch-size", "5",
                          "--connections", "1"});
  ASSERT_EQ(test::run(first), 3) << f.err();
  const std::string journal = test::slurp(f.file("report.json.journal"));
  { std::ofstream(f.file("other.csv")) << "from_id,to_id\n1,2\n"; }
  auto other = f.archive({"--input", f.file("other.csv"), "--report", f.file("report.json")});
  EXPECT_EQ(test::run(other), 2);
  EXPECT_NE(f.err().find("an unfinished other job"), std::string::npos) << f.err();
  EXPECT_NE(f.err().find("--resume"), std::string::npos) << f.err();
  EXPECT_NE(f.err().find("its own --report"), std::string::npos) << f.err();
  EXPECT_EQ(test::slurp(f.file("report.json.journal")), journal) << "left as it was";
}

// Item 8: "--sandbox --sandbox-rate 0" was still paced at 100 per 10 s.
TEST(issue_11, an_unlimited_embedded_sandbox_is_not_paced) {
  fixture f(3000);
  test::process_spec s;
  s.args = {HUBBATCH_BINARY, "archive", "--sandbox", "--sandbox-rate", "0", "--from-type", "contacts",
            "--to-type", "companies", "--input", f.file("pairs.csv"), "--report", f.file("report.json"), "--quiet"};
  s.stdout_path = f.file("out.txt");
  s.stderr_path = f.file("err.txt");
  ASSERT_EQ(test::run(s), 0) << f.err();
  EXPECT_NE(f.report().find("\"max\": 0"), std::string::npos) << f.report();
}

// Item 8: a retried 503 was logged like a failure.
TEST(issue_11, a_retried_response_is_logged_as_being_retried) {
  sandbox::config sc;
  sc.fault_5xx = 0.3;
  sc.fault_seed = 7;
  fixture f(400, sc);
  auto s = f.archive({"--input", f.file("pairs.csv"), "--batch-size", "5", "--connections", "2"});
  ASSERT_EQ(test::run(s), 0) << f.err();
  const std::string err = f.err();
  EXPECT_NE(err.find("; retrying (retry 1 of 8)"), std::string::npos) << err;
  for (std::size_t at = err.find("HTTP 5"); at != std::string::npos; at = err.find("HTTP 5", at + 1)) {
    const std::string line = err.substr(at, err.find('\n', at) - at);
    EXPECT_NE(line.find("retrying"), std::string::npos) << "every 5xx was retried: " << line;
  }
  s.args.push_back("--quiet");
  ASSERT_EQ(test::run(s), 0) << f.err();
  EXPECT_EQ(f.err().find("retrying"), std::string::npos) << "--quiet quiets it: " << f.err();
}

// Issue 12: a journal on a full disk ended the run with "cannot write
// journal", exit 2, no report and no failures file, while the server had
// archived part of the input. Now it is a stop like any other. (A file size
// limit stands in for a full disk: write(2) fails with EFBIG.)
TEST(issue_12, a_journal_that_cannot_be_written_stops_the_run_resumably) {
  fixture f(40'000);
  const std::string cmd = "trap '' XFSZ; ulimit -f 128; exec '" + std::string(HUBBATCH_BINARY) +
                          "' archive --from-type contacts --to-type companies --ca-file '" + f.file("ca.pem") +
                          "' --base-url " + f.sb->base_url() + " --rate 0 --batch-size 10 --input '" +
                          f.file("pairs.csv") + "' --report '" + f.file("report.json") + "' --failures '" +
                          f.file("failures.csv") + "'";
  test::process_spec s;
  s.args = {"/bin/sh", "-c", cmd};
  s.env = {{"HUBSPOT_ACCESS_TOKEN", token}};
  s.stderr_path = f.file("err.txt");
  EXPECT_EQ(test::run(s), 3) << f.err();
  const std::string report = f.report();
  EXPECT_NE(report.find("\"stop_reason\": \"local_io\""), std::string::npos) << report << f.err();
  EXPECT_NE(f.err().find("cannot write journal"), std::string::npos) << f.err();
  EXPECT_NE(report.find("\"invariant_ok\": true"), std::string::npos) << report;
  EXPECT_GT(f.sb->stats().accepted, 0u) << "it stopped mid-run";
  // The disk has room again: --resume finishes the job.
  auto again = f.archive({"--input", f.file("pairs.csv"), "--report", f.file("report.json"), "--failures",
                          f.file("failures.csv"), "--resume"});
  EXPECT_EQ(test::run(again), 0) << f.err();
  EXPECT_TRUE(f.sb->remaining_pairs("contacts", "companies").empty());
}
