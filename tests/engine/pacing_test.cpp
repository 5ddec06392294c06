#include "engine/pacing.hpp"

#include <gtest/gtest.h>

using namespace hubbatch::engine;
using namespace std::chrono_literals;

namespace {

const time_point t0 = time_point{} + 1h;

archive_config automatic() {
  archive_config c;
  c.rate = rate_mode::automatic;
  c.max_rate = 100;
  c.connections = 8;
  return c;
}

// An answer whose window headers show the request was not counted: Remaining
// stays at Max while `own` of ours were in the window.
pace_answer ignored(int own = 20) {
  pace_answer a;
  a.max = 190;
  a.remaining = 190;
  a.interval_ms = 10000;
  a.own_base = own;
  a.own_occupied = own + 1;
  a.status = 204;
  a.latency = 5ms;
  return a;
}

pace_answer counted(int own = 20) {
  pace_answer a = ignored(own);
  a.remaining = 190 - own - 1;
  return a;
}

pace_answer ten_secondly_429() {
  pace_answer a = counted();
  a.status = 429;
  a.policy = "TEN_SECONDLY_ROLLING";
  a.throttled = true;
  return a;
}

// Feeds answers until the mode changes or `n` were fed; returns the count fed.
int feed(pacing& p, const pace_answer& a, int n, time_point& t) {
  const pace_mode before = p.mode();
  for (int i = 1; i <= n; ++i) {
    t += 10ms;
    p.on_answer(a, t);
    if (p.mode() != before) return i;
  }
  return n;
}

}  // namespace

TEST(pacing, fixed_and_unpaced_never_change) {
  archive_config c = automatic();
  c.rate = rate_mode::fixed;
  c.rate_max = 50;
  c.rate_window = 10s;
  pacing fixed(c);
  time_point t = t0;
  feed(fixed, ignored(), 50, t);
  EXPECT_EQ(fixed.mode(), pace_mode::fixed);
  EXPECT_EQ(fixed.limit(), (pace_limit{50, 10s, {}}));
  c.rate = rate_mode::unlimited;
  pacing unpaced(c);
  EXPECT_EQ(unpaced.mode(), pace_mode::unpaced);
  EXPECT_EQ(unpaced.limit().max, 0);
  EXPECT_EQ(unpaced.requests_per_second(), 0);
}

TEST(pacing, auto_follows_the_window_headers) {
  pacing p(automatic());
  EXPECT_EQ(p.mode(), pace_mode::window);
  EXPECT_EQ(p.limit(), (pace_limit{1, 10s, {}})) << "one probe request before any answer";
  time_point t = t0;
  feed(p, counted(), 20, t);
  EXPECT_EQ(p.mode(), pace_mode::window);
  EXPECT_EQ(p.limit(), (pace_limit{190, 10s, {}}));
  EXPECT_DOUBLE_EQ(p.requests_per_second(), 19);
}

TEST(pacing, ten_answers_that_remaining_ignores_switch_to_adaptive_at_the_window_rate) {
  pacing p(automatic());
  time_point t = t0;
  feed(p, counted(), 3, t);
  EXPECT_EQ(feed(p, ignored(), 30, t), 10);
  EXPECT_EQ(p.mode(), pace_mode::adaptive);
  EXPECT_EQ(p.switches(), 1);
  EXPECT_NE(p.last_switch_evidence().find("Remaining at 190 of 190"), std::string::npos) << p.last_switch_evidence();
  EXPECT_DOUBLE_EQ(p.requests_per_second(), 19);
  const pace_limit l = p.limit();
  EXPECT_EQ(l.window, duration::zero()) << "no window: spacing and requests in flight";
  EXPECT_NEAR(std::chrono::duration<double>(l.spacing).count(), 1.0 / 19, 1e-6);
  EXPECT_GE(l.max, 1);
  EXPECT_LE(l.max, 8);
}

TEST(pacing, one_counted_answer_restarts_the_evidence) {
  pacing p(automatic());
  time_point t = t0;
  feed(p, ignored(), 9, t);
  feed(p, counted(), 1, t);
  feed(p, ignored(), 9, t);
  EXPECT_EQ(p.mode(), pace_mode::window);
  feed(p, ignored(), 1, t);
  EXPECT_EQ(p.mode(), pace_mode::adaptive);
}

TEST(pacing, too_few_of_ours_in_the_window_prove_nothing) {
  pacing p(automatic());
  time_point t = t0;
  feed(p, ignored(7), 50, t);  // Remaining at Max with 7 of ours: not enough to tell
  EXPECT_EQ(p.mode(), pace_mode::window);
}

TEST(pacing, daily_headers_without_window_headers_are_evidence_and_no_headers_are_not) {
  pacing none(automatic());
  pace_answer bare;
  bare.status = 204;
  time_point t = t0;
  feed(none, bare, 50, t);
  EXPECT_EQ(none.mode(), pace_mode::window) << "HubSpot leaves headers out when it cannot gather them";
  pacing daily(automatic());
  bare.daily_headers = true;
  t = t0;
  EXPECT_EQ(feed(daily, bare, 50, t), 10);
  EXPECT_EQ(daily.mode(), pace_mode::adaptive);
  EXPECT_NE(daily.last_switch_evidence().find("daily"), std::string::npos);
}

TEST(pacing, a_ten_secondly_429_returns_to_the_window_for_the_rest_of_the_run) {
  pacing p(automatic());
  time_point t = t0;
  feed(p, ignored(), 10, t);
  ASSERT_EQ(p.mode(), pace_mode::adaptive);
  t += 10ms;
  EXPECT_TRUE(p.on_answer(ten_secondly_429(), t));
  EXPECT_EQ(p.mode(), pace_mode::window);
  EXPECT_EQ(p.switches(), 2);
  EXPECT_NE(p.last_switch_evidence().find("TEN_SECONDLY_ROLLING"), std::string::npos);
  EXPECT_GT(p.limit().window, duration::zero());
  feed(p, ignored(), 100, t);
  EXPECT_EQ(p.mode(), pace_mode::window) << "never adaptive again";
}

TEST(pacing, a_secondly_429_halves_the_adaptive_rate_and_keeps_the_mode) {
  pacing p(automatic());
  time_point t = t0;
  feed(p, ignored(), 10, t);
  ASSERT_EQ(p.mode(), pace_mode::adaptive);
  pace_answer a = ignored();
  a.status = 429;
  a.policy = "SECONDLY";
  a.throttled = true;
  t += 10ms;
  EXPECT_TRUE(p.on_answer(a, t));
  EXPECT_EQ(p.mode(), pace_mode::adaptive);
  EXPECT_DOUBLE_EQ(p.requests_per_second(), 9.5);
}

TEST(pacing, no_adaptive_and_a_share_stay_on_the_window) {
  archive_config c = automatic();
  c.adaptive = false;
  pacing off(c);
  time_point t = t0;
  feed(off, ignored(), 50, t);
  EXPECT_EQ(off.mode(), pace_mode::window);
  c = automatic();
  c.rate_share = 0.5;
  pacing share(c);
  t = t0;
  feed(share, ignored(), 50, t);
  EXPECT_EQ(share.mode(), pace_mode::window);
}

TEST(pacing, the_adaptive_rate_grows_to_the_max_rate_and_no_further) {
  archive_config c = automatic();
  c.max_rate = 50;
  pacing p(c);
  time_point t = t0;
  feed(p, ignored(), 10, t);
  ASSERT_EQ(p.mode(), pace_mode::adaptive);
  for (int i = 0; i < 3000; ++i) {
    t += 20ms;
    p.on_answer(ignored(), t);
  }
  EXPECT_DOUBLE_EQ(p.requests_per_second(), 50);
}
