// Issue 15 end to end, against the sandbox in-process over real TLS on
// 127.0.0.1: --rate auto leaves the window for the adaptive pace when the
// sandbox exempts the batch routes (and not otherwise), a hidden capacity's
// SECONDLY 429s cost time but no pair, and --batch-size auto settles at the
// limit the sandbox's 400 names with one refused request.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/exit_codes.hpp"
#include "engine/job.hpp"
#include "engine/operation.hpp"
#include "sandbox/config.hpp"
#include "sandbox/server.hpp"
#include "support/engine_job.hpp"
#include "support/test_data.hpp"

using namespace hubbatch;

namespace {

using test::job_for;
using test::make_pairs;
using test::options_for;
using test::sandbox_with;
using test::temp_dir;

using test::expect_books_balance;

engine::job_result create_at_auto(const sandbox::background_sandbox& sb, const std::string& input,
                                  double max_rate = 100) {
  auto cfg = job_for(sb, input);
  cfg.rate = engine::rate_mode::automatic;
  cfg.max_rate = max_rate;
  cfg.connections = 8;
  auto o = options_for(sb);
  o.op = &engine::create_operation();
  return engine::run_job(cfg, o);
}

std::string write_pairs(const temp_dir& dir, const std::vector<pair_id>& pairs) {
  std::string text;
  for (const auto& p : pairs) text += std::to_string(p.from) + "," + std::to_string(p.to) + "\n";
  const std::string path = dir.file("pairs.csv");
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST(pace_integration, an_exempt_window_switches_auto_to_the_adaptive_pace_and_a_counted_one_does_not) {
  for (bool exempt : {true, false}) {
    temp_dir dir;
    auto sc = sandbox_with({}, "190/10s");
    sc.exempt_batch = exempt;
    sandbox::background_sandbox sb(sc);
    const auto input = make_pairs(4000, 7);
    auto r = create_at_auto(sb, write_pairs(dir, input));
    expect_books_balance(r);
    EXPECT_EQ(r.totals.done_pairs, input.size()) << exempt;
    EXPECT_EQ(r.totals.rate_limited, 0u) << exempt;
    EXPECT_EQ(r.context.rate_mode, exempt ? "adaptive" : "window");
    EXPECT_EQ(r.context.rate_mode_switches, exempt ? 1 : 0);
    EXPECT_EQ(cli::decide_exit(r, false).code, 0);
  }
}

TEST(pace_integration, a_hidden_capacity_costs_time_and_no_pair) {
  temp_dir dir;
  auto sc = sandbox_with({}, "190/10s");
  sc.exempt_batch = true;
  sc.capacity = 15;  // per second; the pace may try up to 200/s
  sandbox::background_sandbox sb(sc);
  const auto input = make_pairs(3000, 11);
  auto r = create_at_auto(sb, write_pairs(dir, input), 200);
  expect_books_balance(r);
  EXPECT_EQ(r.totals.done_pairs, input.size());
  EXPECT_EQ(r.totals.failed_pairs, 0u);
  EXPECT_EQ(r.context.rate_mode, "adaptive");
  EXPECT_LE(r.context.adaptive_rate, 200);
  EXPECT_EQ(r.totals.rate_limited, r.totals.http_status[429]) << "429s are resent, never failures";
}

TEST(pace_integration, batch_size_auto_settles_at_the_limit_the_answer_names_with_one_refusal) {
  temp_dir dir;
  auto sc = sandbox_with({}, "0");
  ASSERT_EQ(sandbox::parse_input_limits("create:300,default:300", sc.max_inputs), "");
  sandbox::background_sandbox sb(sc);
  const auto input = make_pairs(30000, 5);
  auto cfg = job_for(sb, write_pairs(dir, input));
  cfg.batch_size = 100;
  cfg.batch_size_auto = true;
  auto o = options_for(sb);
  o.op = &engine::create_operation();
  auto r = engine::run_job(cfg, o);
  expect_books_balance(r);
  EXPECT_EQ(r.totals.done_pairs, input.size());
  EXPECT_EQ(r.totals.http_status[400], 1u) << "one refused request: 400 inputs, after 100 and 200 passed";
  EXPECT_EQ(r.totals.failed_pairs, 0u);
  // 30,000 pairs at 300 are 100 requests; the ramp (100, 200) and the
  // batches cut ahead at smaller sizes add some, far from the 300 of a fixed 100.
  EXPECT_LE(r.totals.requests, 140u);
  EXPECT_GE(r.totals.requests, 101u);
}

TEST(pace_integration, the_daily_reserve_stops_an_adaptive_run_as_it_stops_any_other) {
  temp_dir dir;
  auto sc = sandbox_with({}, "190/10s");
  sc.exempt_batch = true;
  sc.daily = 80;
  sandbox::background_sandbox sb(sc);
  const auto input = make_pairs(6000, 13);
  auto cfg = job_for(sb, write_pairs(dir, input));
  cfg.rate = engine::rate_mode::automatic;
  cfg.connections = 8;
  cfg.daily_reserve = 40;
  auto o = options_for(sb);
  o.op = &engine::create_operation();
  auto r = engine::run_job(cfg, o);
  expect_books_balance(r);
  EXPECT_EQ(r.stop, engine::stop_reason::daily_reserve);
  EXPECT_EQ(r.context.rate_mode, "adaptive") << "the switch came before the reserve";
  EXPECT_LE(r.totals.requests, 40u + 8u) << "at most the answers in flight pass the reserve";
  EXPECT_GT(r.totals.pending_pairs, 0u);
  EXPECT_EQ(cli::decide_exit(r, false).code, 3);
}
