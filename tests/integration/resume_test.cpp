// Issue 4: nothing lost across crashes and interrupts. The journal lets a
// rerun with --resume carry on where a stopped or killed run left off,
// against the sandbox over real TLS.
#include "cli/exit_codes.hpp"
#include "engine/job.hpp"

#include "io/files.hpp"
#include "sandbox/config.hpp"
#include "sandbox/server.hpp"
#include "support/test_data.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>
#include <unistd.h>

using namespace hubbatch;
namespace fs = std::filesystem;

namespace {

using test::make_pairs;
using test::sorted;
using test::temp_dir;
using test::write_csv;




sandbox::config sandbox_config(std::vector<pair_id> seeded, const std::string& rate = "0") {
  sandbox::config c;
  c.listen_host = "127.0.0.1";
  c.listen_port = 0;
  c.rate = *sandbox::parse_rate(rate);
  c.fault_seed = 4242;
  sandbox::seed_spec s;
  s.pairs = std::move(seeded);
  c.seeds.push_back(std::move(s));
  return c;
}


// Pulls one integer field out of the report JSON (`"name": 123`), searching
// from `from` (e.g. the position of "job_totals").
std::uint64_t json_field(const std::string& json, const std::string& name, std::size_t from = 0) {
  auto p = json.find("\"" + name + "\":", from);
  if (p == std::string::npos) return ~0ULL;
  return std::stoull(json.substr(json.find(':', p) + 1));
}

// The CLI against a sandbox, with the CA written to a file and a token in the environment.
struct cli_run {
  const sandbox::background_sandbox& sb;
  temp_dir& dir;
  std::string input;
  std::vector<std::string> extra;

  test::process_spec spec(bool resume) const {
    test::process_spec s;
    s.args = {HUBBATCH_BINARY, "archive", "--from-type", "contacts", "--to-type", "companies", "--input", input,
              "--base-url", sb.base_url(), "--ca-file", dir.file("ca.pem"), "--report", dir.file("report.json"),
              "--failures", dir.file("failures.csv"), "--quiet"};
    s.args.insert(s.args.end(), extra.begin(), extra.end());
    if (resume) s.args.push_back("--resume");
    s.env = {{"HUBSPOT_ACCESS_TOKEN", "pat-resume-test"}};
    s.stdout_path = dir.file("stdout.txt");
    s.stderr_path = dir.file("stderr.txt");
    return s;
  }
};

void write_ca(const sandbox::background_sandbox& sb, const temp_dir& dir) {
  io::write_file_atomic(dir.file("ca.pem"), sb.ca_pem());
}

}  // namespace

TEST(resume, request_budget_stop_then_resume_sends_each_pair_once) {
  auto input = make_pairs(3'000, 21);
  sandbox::background_sandbox sb(sandbox_config(input));
  temp_dir dir;
  engine::archive_config cfg;
  cfg.from_type = "contacts";
  cfg.to_type = "companies";
  cfg.input = write_csv(dir.file("pairs.csv"), input);
  cfg.base_url = sb.base_url();
  cfg.rate = engine::rate_mode::unlimited;
  cfg.connections = 2;
  cfg.batch_size = 20;
  cfg.journal_path = dir.file("job.journal");
  cfg.max_requests = 5;
  cfg.group_window = 300;  // the file is partitioned: the journal must see through it
  engine::job_options opt;
  opt.token = "pat-x";
  opt.ca_pem = sb.ca_pem();
  opt.handle_signals = false;
  opt.quiet = true;

  auto r1 = engine::run_job(cfg, opt);
  EXPECT_EQ(r1.invariant_error, "");
  EXPECT_EQ(cli::decide_exit(r1, false).code, 3);
  EXPECT_EQ(r1.context.stop_reason, "request_budget");
  EXPECT_EQ(r1.totals.requests, 5u);
  EXPECT_EQ(r1.totals.input_pairs, input.size());
  EXPECT_GT(r1.totals.pending_pairs, 0u);

  // Without --resume an existing journal stops the run with advice.
  try {
    engine::run_job(cfg, opt);
    ADD_FAILURE() << "expected a refusal";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("--resume"), std::string::npos) << e.what();
  }

  cfg.max_requests = 0;
  cfg.resume = true;
  auto r2 = engine::run_job(cfg, opt);
  EXPECT_EQ(r2.invariant_error, "");
  EXPECT_EQ(cli::decide_exit(r2, false).code, 0);
  EXPECT_EQ(r2.totals.skipped_pairs, r1.totals.done_pairs);
  EXPECT_EQ(r2.totals.input_pairs, r1.totals.pending_pairs);
  EXPECT_EQ(r2.totals.resent_pairs, 0u) << "a clean stop leaves nothing of unknown fate";
  EXPECT_EQ(r1.totals.sent_pairs + r2.totals.sent_pairs, input.size()) << "no pair sent twice";
  ASSERT_TRUE(r2.context.totals);
  EXPECT_EQ(r2.context.totals->runs, 2u);
  EXPECT_EQ(r2.context.totals->input_pairs, input.size());
  EXPECT_EQ(r2.context.totals->done_pairs, input.size());
  EXPECT_TRUE(sb.remaining_pairs("contacts", "companies").empty());
  EXPECT_EQ(sb.stats().applied_request_pairs, input.size());
}

TEST(resume, a_changed_input_or_other_types_are_refused) {
  auto input = make_pairs(500, 22);
  sandbox::background_sandbox sb(sandbox_config(input));
  temp_dir dir;
  engine::archive_config cfg;
  cfg.from_type = "contacts";
  cfg.to_type = "companies";
  cfg.input = write_csv(dir.file("pairs.csv"), input);
  cfg.base_url = sb.base_url();
  cfg.rate = engine::rate_mode::unlimited;
  cfg.journal_path = dir.file("job.journal");
  cfg.max_requests = 1;
  engine::job_options opt;
  opt.token = "pat-x";
  opt.ca_pem = sb.ca_pem();
  opt.handle_signals = false;
  opt.quiet = true;
  EXPECT_EQ(cli::decide_exit(engine::run_job(cfg, opt), false).code, 3);

  cfg.resume = true;
  cfg.to_type = "deals";
  EXPECT_THROW(engine::run_job(cfg, opt), std::runtime_error);
  cfg.to_type = "companies";
  {
    std::ofstream out(cfg.input, std::ios::app);
    out << "1,2\n";
  }
  try {
    engine::run_job(cfg, opt);
    ADD_FAILURE() << "expected a refusal";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("changed"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--restart"), std::string::npos) << e.what();
  }
  cfg.resume = false;
  cfg.restart = true;
  cfg.max_requests = 0;
  auto r = engine::run_job(cfg, opt);
  EXPECT_EQ(r.invariant_error, "");
  EXPECT_EQ(r.totals.input_pairs, input.size() + 1);
}

TEST(resume, sigkill_at_random_points_loses_nothing_and_resends_little) {
  auto input = make_pairs(20'000, 23);
  auto extras = make_pairs(1'000, 24, 30'000'000'000ULL);
  std::vector<pair_id> seeded = input;
  seeded.insert(seeded.end(), extras.begin(), extras.end());
  auto sc = sandbox_config(seeded);
  sc.fault_5xx = 0.05;
  sc.fault_reset = 0.03;  // before applying: each send that applies is counted below
  sc.fault_slow = 0.2;
  sc.fault_slow_delay = std::chrono::milliseconds(30);
  sandbox::background_sandbox sb(sc);
  temp_dir dir;
  write_ca(sb, dir);
  const int connections = 4, batch_size = 10;
  cli_run cli{sb, dir, write_csv(dir.file("pairs.csv"), input),
              {"--rate", "0", "--connections", std::to_string(connections), "--batch-size",
               std::to_string(batch_size), "--max-pairs-per-request", "40", "--max-retries", "50"}};

  std::mt19937_64 rng(7);
  int kills = 0;
  for (int run = 0; run < 6; ++run) {
    auto before = sb.stats().requests;
    test::process p(cli.spec(run > 0));
    auto threshold = before + 20 + rng() % 120;
    // Kill once the sandbox has seen `threshold` requests (or the run ended first).
    while (p.running() && sb.stats().requests < threshold) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (!p.running()) break;
    p.signal(SIGKILL);
    EXPECT_EQ(p.wait(), 128 + SIGKILL);
    ++kills;
  }
  ASSERT_GE(kills, 3) << "the run was too quick to be killed mid-way";
  int code = test::run(cli.spec(true));
  std::string report = test::slurp(dir.file("report.json"));
  ASSERT_EQ(code, 0) << test::slurp(dir.file("stderr.txt"));

  // The store holds exactly the pairs that were never in the input.
  EXPECT_EQ(sorted(sb.remaining_pairs("contacts", "companies")), sorted(extras));
  // The totals over all runs add up to the input.
  auto totals = report.find("\"job_totals\"");
  ASSERT_NE(totals, std::string::npos) << report;
  EXPECT_EQ(json_field(report, "input_pairs", totals), input.size());
  EXPECT_EQ(json_field(report, "archived_pairs", totals), input.size());
  EXPECT_EQ(json_field(report, "pending_pairs", totals), 0u);
  EXPECT_EQ(json_field(report, "runs", totals), static_cast<std::uint64_t>(kills + 1));
  EXPECT_NE(report.find("\"invariant_ok\": true"), std::string::npos);
  // No pair was applied more often than once, except those in flight at a kill.
  const std::uint64_t in_flight_bound = static_cast<std::uint64_t>(connections) * 40;
  EXPECT_LE(sb.stats().applied_request_pairs, input.size() + kills * in_flight_bound)
      << "kills: " << kills;
}

TEST(resume, sigint_and_sigterm_stop_gracefully_with_exit_3_then_resume) {
  for (int sig : {SIGINT, SIGTERM}) {
    auto input = make_pairs(2'000, 25);
    sandbox::background_sandbox sb(sandbox_config(input, "20/1s"));
    temp_dir dir;
    write_ca(sb, dir);
    cli_run cli{sb, dir, write_csv(dir.file("pairs.csv"), input), {"--rate", "auto", "--batch-size", "5"}};
    {
      test::process p(cli.spec(false));
      while (p.running() && sb.stats().requests < 10) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      ASSERT_TRUE(p.running());
      p.signal(sig);
      EXPECT_EQ(p.wait(std::chrono::seconds(60)), 3);
    }
    std::string err = test::slurp(dir.file("stderr.txt"));
    EXPECT_NE(err.find(sig == SIGINT ? "SIGINT" : "SIGTERM"), std::string::npos) << err;
    EXPECT_NE(err.find("run the same command again with --resume"), std::string::npos) << err;
    std::string report = test::slurp(dir.file("report.json"));
    EXPECT_NE(report.find("\"stop_reason\": \"interrupted\""), std::string::npos) << report;

    // Resume against an unlimited sandbox holding what is left.
    sandbox::background_sandbox sb2(sandbox_config(sb.remaining_pairs("contacts", "companies")));
    write_ca(sb2, dir);
    cli_run cli2{sb2, dir, cli.input, {"--rate", "0"}};
    EXPECT_EQ(test::run(cli2.spec(true)), 0) << test::slurp(dir.file("stderr.txt"));
    EXPECT_TRUE(sb2.remaining_pairs("contacts", "companies").empty());
    report = test::slurp(dir.file("report.json"));
    auto totals = report.find("\"job_totals\"");
    ASSERT_NE(totals, std::string::npos);
    EXPECT_EQ(json_field(report, "input_pairs", totals), input.size());
    EXPECT_EQ(json_field(report, "archived_pairs", totals), input.size());
  }
}

TEST(resume, daily_limit_then_next_day_run_finishes) {
  auto input = make_pairs(2'000, 26);
  auto sc = sandbox_config(input);
  sc.daily = 4;
  sandbox::background_sandbox sb(sc);
  temp_dir dir;
  write_ca(sb, dir);
  cli_run cli{sb, dir, write_csv(dir.file("pairs.csv"), input), {"--rate", "0", "--batch-size", "10"}};
  EXPECT_EQ(test::run(cli.spec(false)), 3);
  std::string report = test::slurp(dir.file("report.json"));
  EXPECT_NE(report.find("\"stop_reason\": \"daily_limit\""), std::string::npos) << report;
  auto left = sb.remaining_pairs("contacts", "companies");
  EXPECT_FALSE(left.empty());
  EXPECT_EQ(json_field(report, "pending_pairs"), left.size());

  sandbox::background_sandbox next_day(sandbox_config(left));
  write_ca(next_day, dir);
  cli_run cli2{next_day, dir, cli.input, {"--rate", "0"}};
  EXPECT_EQ(test::run(cli2.spec(true)), 0) << test::slurp(dir.file("stderr.txt"));
  EXPECT_TRUE(next_day.remaining_pairs("contacts", "companies").empty());
  EXPECT_EQ(next_day.stats().applied_request_pairs, left.size()) << "only the pending pairs were sent";
}
