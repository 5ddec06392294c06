#include "sandbox/rate_window.hpp"

#include <gtest/gtest.h>

using namespace hubbatch::sandbox;

namespace {
constexpr std::int64_t ms = 1'000'000;  // ns per ms
}

TEST(sandbox_rate_window, rolling_window_admits_n_per_window_exactly) {
  rolling_window w(rate_spec{3, std::chrono::milliseconds(1000)});
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(w.has_room(i * ms));
    w.record(i * ms);
  }
  EXPECT_FALSE(w.has_room(500 * ms));
  EXPECT_FALSE(w.has_room(1000 * ms - 1));  // the window is (now - 1 s, now]
  EXPECT_TRUE(w.has_room(1000 * ms));       // the request at t=0 has left it
  w.record(1000 * ms);
  EXPECT_FALSE(w.has_room(1000 * ms + 500));  // t=1, 2 and 1000 ms are inside
  EXPECT_EQ(w.max_in_window(), 3u);
  EXPECT_EQ(w.count_within(1000 * ms + 500, 1000 * ms), 3u);
  EXPECT_TRUE(w.has_room(1001 * ms));  // t=1 ms has left
  EXPECT_EQ(w.count_within(1001 * ms, 2 * ms), 1u);
}

TEST(sandbox_rate_window, zero_means_unlimited_but_still_measures) {
  rolling_window w(rate_spec{0, std::chrono::milliseconds(10'000)});
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(w.has_room(i * ms));
    w.record(i * ms);
  }
  EXPECT_EQ(w.max_in_window(), 500u);
}

TEST(sandbox_rate_window, daily_budget_resets_at_local_midnight) {
  const std::int64_t day = 86'400'000;
  daily_budget utc(2, 0);
  const std::int64_t t0 = 20'000 * day + 23 * 3'600'000;  // 23:00 UTC
  EXPECT_TRUE(utc.has_room(t0));
  utc.record(t0);
  utc.record(t0);
  EXPECT_FALSE(utc.has_room(t0 + 1));
  EXPECT_EQ(utc.remaining(t0), 0u);
  EXPECT_TRUE(utc.has_room(t0 + 3'600'000));  // 00:00 UTC next day
  EXPECT_EQ(utc.remaining(t0 + 3'600'000), 2u);

  daily_budget plus2(1, 120);  // UTC+2: midnight local is 22:00 UTC
  plus2.record(20'000 * day + 21 * 3'600'000);
  EXPECT_FALSE(plus2.has_room(20'000 * day + 21 * 3'600'000 + 1));
  EXPECT_TRUE(plus2.has_room(20'000 * day + 22 * 3'600'000));
}

// Issue 15: the --capacity delay curve, 0 up to 75% of capacity, then
// at_capacity * ((u - 0.75) / 0.25)^2.
TEST(issue_15, capacity_delay_curve) {
  using std::chrono::milliseconds;
  const milliseconds full(200);
  EXPECT_EQ(capacity_delay_for(0, 100, full), milliseconds(0));
  EXPECT_EQ(capacity_delay_for(75, 100, full), milliseconds(0));     // u = 0.75: still none
  EXPECT_EQ(capacity_delay_for(76, 100, full), milliseconds(0));     // 200 * 0.04^2 = 0.32, rounded
  EXPECT_EQ(capacity_delay_for(77, 100, full), milliseconds(1));     // 200 * 0.08^2 = 1.28
  EXPECT_EQ(capacity_delay_for(80, 100, full), milliseconds(8));     // 200 * 0.2^2
  EXPECT_EQ(capacity_delay_for(90, 100, full), milliseconds(72));    // 200 * 0.6^2
  EXPECT_EQ(capacity_delay_for(100, 100, full), milliseconds(200));  // at capacity
  EXPECT_EQ(capacity_delay_for(101, 100, full), milliseconds(200));  // never more
  EXPECT_EQ(capacity_delay_for(3, 4, full), milliseconds(0));
  EXPECT_EQ(capacity_delay_for(4, 4, full), milliseconds(200));
  EXPECT_EQ(capacity_delay_for(100, 100, milliseconds(0)), milliseconds(0));
  EXPECT_EQ(capacity_delay_for(100, 100, milliseconds(1000)), milliseconds(1000));
  EXPECT_EQ(capacity_delay_for(1'000'000, 0, full), milliseconds(0));  // off
  // Monotone in the load.
  milliseconds last(0);
  for (std::uint32_t n = 0; n <= 50; ++n) {
    auto d = capacity_delay_for(n, 50, full);
    EXPECT_GE(d, last) << n;
    last = d;
  }
}

// Issue 15: the capacity counter is a rolling_window of 1 s on fake times.
TEST(issue_15, secondly_counter_on_fake_times) {
  rolling_window second(rate_spec{3, std::chrono::milliseconds(1000)});
  for (std::int64_t t : {0 * ms, 10 * ms, 999 * ms}) {
    ASSERT_TRUE(second.has_room(t));
    second.record(t);
  }
  EXPECT_EQ(second.count(999 * ms), 3u);
  EXPECT_FALSE(second.has_room(999 * ms + 1));  // a 4th within the trailing second: refused
  EXPECT_TRUE(second.has_room(1000 * ms));      // t=0 has left (now - 1 s, now]
  second.record(1000 * ms);
  EXPECT_FALSE(second.has_room(1009 * ms));  // 10, 999, 1000
  EXPECT_TRUE(second.has_room(1010 * ms));
  EXPECT_EQ(second.max_in_window(), 3u);
}
