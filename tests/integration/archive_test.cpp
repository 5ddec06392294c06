// hubbatch archive's engine against the sandbox, in-process, over real TLS
// on 127.0.0.1. Each test checks the store afterwards (what is left must be
// exactly the pairs that were never in the input) and that the books balance.
#include "cli/exit_codes.hpp"
#include "engine/job.hpp"
#include "engine/partitions.hpp"

#include "sandbox/config.hpp"
#include "sandbox/server.hpp"
#include "support/engine_job.hpp"
#include "support/test_data.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

using namespace hubbatch;
namespace fs = std::filesystem;

namespace {

// The mean line length of a file's first 64 KiB, as the job measures it to
// size its partitions.
double line_length(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(64 << 10, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  return engine::bytes_per_line(head);
}

using test::make_pairs;
using test::sorted;
using test::temp_dir;
using test::write_csv;
using test::sandbox_with;
using test::job_for;
using test::options_for;

using test::expect_books_balance;

std::size_t count_lines(const std::string& path) {
  std::ifstream in(path);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

}  // namespace

TEST(archive_integration, archives_200k_pairs_and_leaves_only_the_extras) {
  auto input = make_pairs(200'000, 1);
  auto extras = make_pairs(5'000, 2, 20'000'000'000ULL);  // never in the input: must survive
  std::vector<pair_id> seeded = input;
  seeded.insert(seeded.end(), extras.begin(), extras.end());
  sandbox::background_sandbox sb(sandbox_with(seeded));
  temp_dir dir;
  auto cfg = job_for(sb, write_csv(dir.file("pairs.csv"), input));
  cfg.report_path = dir.file("report.json");

  auto r = engine::run_job(cfg, options_for(sb));

  expect_books_balance(r);
  EXPECT_EQ(r.totals.input_pairs, 200'000u);
  EXPECT_EQ(r.totals.done_pairs, 200'000u);
  EXPECT_EQ(r.totals.failed_pairs, 0u);
  EXPECT_EQ(cli::decide_exit(r, false).code, 0);
  EXPECT_GT(r.totals.sent_pairs / std::max<std::uint64_t>(1, r.totals.requests), 100u)
      << "grouping should put several to-ids in each input";
  EXPECT_EQ(sorted(sb.remaining_pairs("contacts", "companies")), sorted(extras));
  EXPECT_EQ(sb.stats().requests, r.totals.requests);
}

TEST(archive_integration, nothing_lost_under_429s_5xx_resets_and_slow_responses) {
  auto input = make_pairs(20'000, 3);
  auto extras = make_pairs(1'000, 4, 20'000'000'000ULL);
  std::vector<pair_id> seeded = input;
  seeded.insert(seeded.end(), extras.begin(), extras.end());
  auto sc = sandbox_with(seeded, "40/1s");  // the client does not pace: 429 bursts
  sc.fault_5xx = 0.05;
  sc.fault_reset = 0.02;
  sc.fault_reset_after_apply = 0.02;
  sc.fault_slow = 0.02;
  sc.fault_slow_delay = std::chrono::milliseconds(200);
  sc.fault_garbage = 0.02;
  sandbox::background_sandbox sb(sc);
  temp_dir dir;
  auto cfg = job_for(sb, write_csv(dir.file("pairs.csv"), input));
  cfg.batch_size = 20;  // more requests, more faults
  cfg.max_retries = 30;
  cfg.failures_path = dir.file("failures.csv");

  auto r = engine::run_job(cfg, options_for(sb));

  expect_books_balance(r);
  EXPECT_EQ(r.totals.done_pairs, input.size());
  EXPECT_EQ(r.totals.failed_pairs, 0u);
  EXPECT_GT(r.totals.rate_limited, 0u) << "the scenario must actually produce 429s";
  EXPECT_GT(r.totals.transport_errors, 0u) << "and resets";
  EXPECT_GT(r.totals.http_status[500] + r.totals.http_status[502] + r.totals.http_status[503] +
                r.totals.http_status[504],
            0u);
  EXPECT_EQ(sorted(sb.remaining_pairs("contacts", "companies")), sorted(extras));
  EXPECT_EQ(count_lines(cfg.failures_path), 1u) << "header only";
}

TEST(archive_integration, auto_rate_follows_headers_without_429) {
  auto input = make_pairs(3'000, 5);
  sandbox::background_sandbox sb(sandbox_with(input, "15/1s"));
  temp_dir dir;
  auto cfg = job_for(sb, write_csv(dir.file("pairs.csv"), input));
  cfg.rate = engine::rate_mode::automatic;
  cfg.batch_size = 10;  // ~75 requests: several windows

  auto r = engine::run_job(cfg, options_for(sb));

  expect_books_balance(r);
  EXPECT_EQ(r.totals.done_pairs, input.size());
  EXPECT_EQ(r.totals.rate_limited, 0u);
  EXPECT_EQ(r.context.effective_rate_max, 15);
  EXPECT_DOUBLE_EQ(r.context.effective_rate_window_s, 1.0);
  EXPECT_LE(sb.stats().max_requests_in_window, 15u);
  EXPECT_TRUE(sb.remaining_pairs("contacts", "companies").empty());
}

TEST(archive_integration, poisoned_input_fails_alone) {
  auto input = make_pairs(2'000, 6);
  auto sc = sandbox_with(input);
  const pair_id poison = input[777];
  sc.reject_ids = {poison.to};
  sandbox::background_sandbox sb(sc);
  temp_dir dir;
  auto cfg = job_for(sb, write_csv(dir.file("pairs.csv"), input));
  cfg.failures_path = dir.file("failures.csv");

  auto r = engine::run_job(cfg, options_for(sb));

  expect_books_balance(r);
  EXPECT_EQ(r.totals.failed_pairs, 1u);
  EXPECT_EQ(r.totals.done_pairs, input.size() - 1);
  EXPECT_EQ(cli::decide_exit(r, false).code, 1);
  EXPECT_EQ(sb.remaining_pairs("contacts", "companies"), std::vector<pair_id>{poison});
  std::ifstream f(cfg.failures_path);
  std::string header, line;
  std::getline(f, header);
  std::getline(f, line);
  EXPECT_EQ(header,
            "from_id,to_id,outcome,category,http_status,message,line,text,association_category,association_type_id");
  EXPECT_EQ(line.rfind(std::to_string(poison.from) + "," + std::to_string(poison.to) + ",failed,VALIDATION_ERROR,400,", 0),
            0u)
      << line;
  // The pair's input line (the header is line 1), no text for a pair, no type.
  EXPECT_TRUE(line.ends_with("," + std::to_string(777 + 2) + ",,,")) << line;
}

TEST(archive_integration, wrong_token_exits_4_and_leaves_everything_pending) {
  auto input = make_pairs(500, 7);
  sandbox::background_sandbox sb(sandbox_with(input));
  temp_dir dir;
  auto cfg = job_for(sb, write_csv(dir.file("pairs.csv"), input));
  cfg.report_path = dir.file("report.json");

  auto r = engine::run_job(cfg, options_for(sb, "pat-wrong"));

  expect_books_balance(r);
  EXPECT_EQ(cli::decide_exit(r, false).code, 4);
  EXPECT_EQ(r.totals.pending_pairs, input.size());
  EXPECT_NE(r.stop_message.find("INVALID_AUTHENTICATION"), std::string::npos) << r.stop_message;
  EXPECT_EQ(sb.remaining_pairs("contacts", "companies").size(), input.size());
}

TEST(archive_integration, missing_scopes_exit_4_with_the_scopes) {
  auto input = make_pairs(100, 8);
  auto sc = sandbox_with(input);
  sc.missing_scopes = true;
  sandbox::background_sandbox sb(sc);
  temp_dir dir;
  auto r = engine::run_job(job_for(sb, write_csv(dir.file("pairs.csv"), input)), options_for(sb));
  expect_books_balance(r);
  EXPECT_EQ(cli::decide_exit(r, false).code, 4);
  EXPECT_FALSE(r.required_scopes.empty());
  EXPECT_EQ(r.totals.pending_pairs, input.size());
}

TEST(archive_integration, daily_budget_exhausted_exits_3_with_the_rest_pending) {
  auto input = make_pairs(10'000, 9);
  auto sc = sandbox_with(input);
  sc.daily = 5;
  sandbox::background_sandbox sb(sc);
  temp_dir dir;
  auto cfg = job_for(sb, write_csv(dir.file("pairs.csv"), input));
  cfg.batch_size = 10;
  cfg.connections = 1;  // exactly 5 requests get through
  cfg.failures_path = dir.file("failures.csv");

  auto r = engine::run_job(cfg, options_for(sb));

  expect_books_balance(r);
  EXPECT_EQ(cli::decide_exit(r, false).code, 3);
  EXPECT_EQ(r.context.stop_reason, "daily_limit");
  EXPECT_EQ(r.totals.input_pairs, input.size()) << "the rest of the file is still counted";
  EXPECT_GT(r.totals.done_pairs, 0u);
  EXPECT_EQ(r.totals.done_pairs + r.totals.pending_pairs, input.size());
  EXPECT_EQ(sb.remaining_pairs("contacts", "companies").size(), r.totals.pending_pairs);
  EXPECT_EQ(count_lines(cfg.failures_path), 1 + r.totals.pending_pairs);

  // The failures file is valid input for the next run, which finishes the job.
  auto sc2 = sandbox_with(sb.remaining_pairs("contacts", "companies"));
  sandbox::background_sandbox sb2(sc2);
  auto cfg2 = job_for(sb2, cfg.failures_path);
  auto r2 = engine::run_job(cfg2, options_for(sb2));
  expect_books_balance(r2);
  EXPECT_EQ(cli::decide_exit(r2, false).code, 0);
  EXPECT_EQ(r2.totals.done_pairs, r.totals.pending_pairs);
  EXPECT_TRUE(sb2.remaining_pairs("contacts", "companies").empty());
}

TEST(archive_integration, dated_versions_with_200_bodies) {
  for (const char* version : {"2025-09", "2026-03", "2026-09"}) {
    auto input = make_pairs(1'000, 10);
    sandbox::background_sandbox sb(sandbox_with(input));
    temp_dir dir;
    auto cfg = job_for(sb, write_csv(dir.file("pairs.csv"), input));
    cfg.api_version = version;
    auto r = engine::run_job(cfg, options_for(sb));
    expect_books_balance(r);
    EXPECT_EQ(r.totals.done_pairs, input.size()) << version;
    EXPECT_GT(r.totals.http_status[200], 0u) << version;
    EXPECT_EQ(r.totals.http_status[204], 0u) << version;
    EXPECT_TRUE(sb.remaining_pairs("contacts", "companies").empty()) << version;
  }
}

TEST(archive_integration, too_large_batches_are_halved) {
  auto input = make_pairs(4'000, 11);
  auto sc = sandbox_with(input);
  sc.max_pairs = 100;  // the server counts pairs; the client sends ~400 per request
  sandbox::background_sandbox sb(sc);
  temp_dir dir;
  auto r = engine::run_job(job_for(sb, write_csv(dir.file("pairs.csv"), input)), options_for(sb));
  expect_books_balance(r);
  EXPECT_EQ(r.totals.done_pairs, input.size());
  EXPECT_EQ(r.totals.failed_pairs, 0u);
  EXPECT_GT(r.totals.http_status[400], 0u);
  EXPECT_LE(r.totals.http_status[400], 12u) << "halving is remembered: at most a few rounds per connection";
  EXPECT_TRUE(sb.remaining_pairs("contacts", "companies").empty());
}

TEST(archive_integration, missing_pairs_reported_partially_count_as_already_absent) {
  auto input = make_pairs(1'000, 12);
  std::vector<pair_id> seeded(input.begin(), input.begin() + 600);  // 400 are not associated
  auto sc = sandbox_with(seeded);
  sc.missing = sandbox::missing_mode::partial;
  sandbox::background_sandbox sb(sc);
  temp_dir dir;
  auto r = engine::run_job(job_for(sb, write_csv(dir.file("pairs.csv"), input)), options_for(sb));
  expect_books_balance(r);
  EXPECT_EQ(r.totals.done_pairs, input.size());
  EXPECT_EQ(r.totals.already_absent_pairs, 400u);
  EXPECT_TRUE(sb.remaining_pairs("contacts", "companies").empty());
}

TEST(archive_integration, bad_lines_duplicates_and_blank_lines_are_accounted) {
  auto input = make_pairs(300, 13);
  sandbox::background_sandbox sb(sandbox_with(input));
  temp_dir dir;
  std::string path = dir.file("pairs.csv");
  {
    std::ofstream out(path);
    out << "fromObjectId,toObjectId,note\n";
    for (std::size_t i = 0; i < input.size(); ++i) {
      out << input[i].from << ',' << input[i].to << ",x\n";
      if (i == 10) out << "abc,123\n";            // bad id
      if (i == 20) out << "\n";                    // blank: ignored
      if (i == 30) out << input[i].from << ',' << input[i].to << "\n";  // duplicate
      if (i == 40) out << "123\n";                 // one column
    }
  }
  auto cfg = job_for(sb, path);
  cfg.failures_path = dir.file("failures.csv");
  auto r = engine::run_job(cfg, options_for(sb));
  expect_books_balance(r);
  EXPECT_EQ(r.totals.input_pairs, input.size() + 3);
  EXPECT_EQ(r.totals.rejected_pairs, 2u);
  EXPECT_EQ(r.totals.duplicate_pairs, 1u);
  EXPECT_EQ(r.totals.done_pairs, input.size());
  EXPECT_EQ(cli::decide_exit(r, false).code, 1);
  EXPECT_EQ(count_lines(cfg.failures_path), 3u);
}

TEST(archive_integration, unknown_ca_stops_the_run_at_once_with_pairs_pending) {
  auto input = make_pairs(50, 14);
  sandbox::background_sandbox sb(sandbox_with(input));
  sandbox::background_sandbox other(sandbox_with({}));
  temp_dir dir;
  auto cfg = job_for(sb, write_csv(dir.file("pairs.csv"), input));
  cfg.max_retries = 1;
  auto opt = options_for(sb);
  opt.ca_pem = other.ca_pem();  // trusts the wrong CA
  auto r = engine::run_job(cfg, opt);
  expect_books_balance(r);
  EXPECT_EQ(r.totals.pending_pairs, input.size());
  EXPECT_EQ(r.totals.failed_pairs, 0u);
  EXPECT_EQ(cli::decide_exit(r, false).code, 2);
  EXPECT_EQ(r.context.stop_reason, "tls");
  EXPECT_EQ(r.totals.requests, 0u);
  EXPECT_EQ(sb.remaining_pairs("contacts", "companies").size(), input.size());
}

// Lines far shorter than the partition estimate make partitions larger than
// the group window: those are streamed through the grouper's index instead
// of being read whole and grouped. Every pair still goes out exactly once.
// (The estimate is the length of the file's first lines: here ids padded
// with zeros to 20 digits, 42 bytes a line, then "123,45", 7 bytes.)
TEST(archive_integration, partitions_larger_than_the_window_are_streamed) {
  std::vector<pair_id> input;
  std::mt19937_64 rng(9);
  for (std::uint64_t from = 1; from <= 400; ++from) {
    for (std::uint64_t to = 1; to <= 99; ++to) {
      if (rng() % 2 == 0) input.push_back({from, to});
    }
  }
  std::shuffle(input.begin(), input.end(), rng);
  sandbox::background_sandbox sb(sandbox_with(input));
  temp_dir dir;
  const std::string path = dir.file("pairs.csv");
  {
    std::ofstream out(path);
    for (std::size_t i = 0; i < input.size(); ++i) {
      if (i < 2'000) {
        out << fmt::format("{:020},{:020}\n", input[i].from, input[i].to);
      } else {
        out << input[i].from << ',' << input[i].to << '\n';
      }
    }
  }
  auto cfg = job_for(sb, path);
  cfg.group_window = 5'000;  // partitions of about 2.5 windows: above it (and the 4096-record block)
  auto r = engine::run_job(cfg, options_for(sb));
  expect_books_balance(r);
  EXPECT_EQ(r.totals.done_pairs, input.size());
  EXPECT_EQ(r.totals.duplicate_pairs, 0u);
  EXPECT_TRUE(sb.remaining_pairs("contacts", "companies").empty());
  ASSERT_TRUE(r.context.partition);
  EXPECT_GT(r.context.partition->pairs / r.context.partition->files, cfg.group_window);
}

TEST(archive_integration, partitioned_input_groups_every_from_id_into_one_input) {
  auto input = make_pairs(30'000, 15);  // shuffled: a from-id's pairs are spread over the whole file
  std::set<std::uint64_t> froms;
  for (const auto& p : input) froms.insert(p.from);
  for (bool partition : {true, false}) {
    sandbox::background_sandbox sb(sandbox_with(input));
    temp_dir dir;
    auto cfg = job_for(sb, write_csv(dir.file("pairs.csv"), input));
    cfg.group_window = 2'000;  // far smaller than the file
    cfg.partition_input = partition;
    auto r = engine::run_job(cfg, options_for(sb));
    expect_books_balance(r);
    EXPECT_EQ(r.totals.done_pairs, input.size());
    EXPECT_TRUE(sb.remaining_pairs("contacts", "companies").empty());
    if (partition) {
      EXPECT_EQ(r.totals.sent_inputs, froms.size()) << "each from-id sent as exactly one input";
      // Issue 15: the pass is reported on its own.
      ASSERT_TRUE(r.context.partition);
      const auto& p = *r.context.partition;
      EXPECT_EQ(p.inputs, 1u);
      EXPECT_EQ(p.files, engine::partition_count(fs::file_size(cfg.input), cfg.group_window, engine::max_partitions,
                                                 line_length(cfg.input)));
      EXPECT_EQ(p.pairs, input.size());
      EXPECT_GE(p.bytes, 3 * input.size());  // encoded: three varints at least
      EXPECT_LT(p.bytes, 16 * input.size());
      EXPECT_GE(p.seconds, 0.0);
      EXPECT_LT(p.seconds, r.context.elapsed_s);
      const char* tmp = std::getenv("TMPDIR");
      EXPECT_EQ(p.dir, tmp && *tmp ? tmp : "/tmp");
    } else {
      EXPECT_GT(r.totals.sent_inputs, froms.size() * 2) << "without partitions a small window splits groups";
      EXPECT_FALSE(r.context.partition);
    }
  }
}

// Issue 15: a file split into more partitions than the soft open-file limit
// allows (1024 on many systems: a 1 GB file at the default window wanted
// more) failed to make its temporary files. The job raises the soft limit
// toward the hard one (a hard limit too low gives fewer, larger partitions:
// engine::partition_count, tested in tests/engine/partitions_test.cpp).
TEST(archive_integration, issue_15_a_low_open_file_limit_does_not_stop_a_partitioned_input) {
  auto input = make_pairs(30'000, 16);
  sandbox::background_sandbox sb(sandbox_with(input));
  temp_dir dir;
  auto cfg = job_for(sb, write_csv(dir.file("pairs.csv"), input));
  cfg.group_window = 100;  // about 400 partitions: far more files than the limit below
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = 128;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  auto r = engine::run_job(cfg, options_for(sb));
  rlimit after{};
  ::getrlimit(RLIMIT_NOFILE, &after);
  ::setrlimit(RLIMIT_NOFILE, &saved);
  expect_books_balance(r);
  EXPECT_EQ(r.totals.done_pairs, input.size());
  EXPECT_TRUE(sb.remaining_pairs("contacts", "companies").empty());
  ASSERT_TRUE(r.context.partition);
  const std::size_t reserve = 2 * static_cast<std::size_t>(cfg.connections) + 64;
  const std::size_t allowed = saved.rlim_max == RLIM_INFINITY
                                  ? engine::max_partitions
                                  : std::min<std::size_t>(engine::max_partitions, saved.rlim_max - reserve);
  const std::size_t wanted =
      engine::partition_count(fs::file_size(cfg.input), cfg.group_window, allowed, line_length(cfg.input));
  EXPECT_GT(wanted, 300u);
  EXPECT_EQ(r.context.partition->files, wanted);
  EXPECT_GT(after.rlim_cur, 128u);
}
