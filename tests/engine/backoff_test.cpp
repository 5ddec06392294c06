#include "engine/backoff.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <set>

using namespace hubbatch::engine;
using namespace std::chrono_literals;

namespace {
constexpr std::uint64_t max_bits = std::numeric_limits<std::uint64_t>::max();
}

TEST(backoff, bounds_double_per_attempt_up_to_the_cap) {
  const backoff_policy p;  // 250 ms base, 30 s cap
  // Zero random bits give 0; all-ones give the ceiling exactly.
  const duration ceilings[] = {250ms, 500ms, 1s, 2s, 4s, 8s, 16s, 30s, 30s, 30s};
  for (int attempt = 1; attempt <= 10; ++attempt) {
    SCOPED_TRACE(attempt);
    EXPECT_EQ(backoff_delay(p, attempt, std::nullopt, 0), 0ns);
    EXPECT_EQ(backoff_delay(p, attempt, std::nullopt, max_bits), ceilings[attempt - 1]);
    // Half the bits: half the ceiling (multiply-high of 2^63 by ceiling + 1).
    EXPECT_EQ(backoff_delay(p, attempt, std::nullopt, std::uint64_t{1} << 63),
              duration((ceilings[attempt - 1].count() + 1) / 2));
  }
}

TEST(backoff, every_draw_stays_within_bounds) {
  const backoff_policy p;
  std::mt19937_64 rng(3);
  for (int attempt = 1; attempt <= 12; ++attempt) {
    const duration ceiling = std::min<duration>(p.cap, p.base * (1LL << (attempt - 1)));
    for (int i = 0; i < 1000; ++i) {
      const duration d = backoff_delay(p, attempt, std::nullopt, rng());
      ASSERT_GE(d, 0ns);
      ASSERT_LE(d, ceiling);
    }
  }
}

TEST(backoff, attempt_zero_or_negative_is_the_first_retry) {
  const backoff_policy p;
  EXPECT_EQ(backoff_delay(p, 0, std::nullopt, max_bits), 250ms);
  EXPECT_EQ(backoff_delay(p, -5, std::nullopt, max_bits), 250ms);
}

TEST(backoff, huge_attempt_numbers_do_not_overflow) {
  const backoff_policy p;
  for (int attempt : {62, 63, 64, 65, 100, 1000, std::numeric_limits<int>::max()}) {
    SCOPED_TRACE(attempt);
    EXPECT_EQ(backoff_delay(p, attempt, std::nullopt, max_bits), 30s);
    EXPECT_GE(backoff_delay(p, attempt, std::nullopt, 12345), 0ns);
  }
  // A cap near the type's limit: still no overflow.
  backoff_policy wide;
  wide.cap = duration::max();
  EXPECT_EQ(backoff_delay(wide, 1000, std::nullopt, max_bits), duration::max());
  EXPECT_EQ(backoff_delay(wide, 3, std::nullopt, max_bits), 1s);
  wide.retry_after_cap = duration::max();
  EXPECT_EQ(backoff_delay(wide, 1, duration::max(), max_bits), duration::max());
}

TEST(backoff, retry_after_is_honoured_with_up_to_ten_percent_jitter) {
  const backoff_policy p;
  EXPECT_EQ(backoff_delay(p, 1, 10s, 0), 10s);
  EXPECT_EQ(backoff_delay(p, 1, 10s, max_bits), 11s);
  EXPECT_EQ(backoff_delay(p, 7, 2s, max_bits), 2200ms);  // attempt does not matter
  // Above the exponential cap: still honoured.
  EXPECT_EQ(backoff_delay(p, 1, 120s, 0), 120s);
  // Capped at retry_after_cap (25 h) before the jitter.
  EXPECT_EQ(backoff_delay(p, 1, 48h, 0), 25h);
  EXPECT_EQ(backoff_delay(p, 1, 48h, max_bits), 25h + 150min);
  // Zero and negative mean "now".
  EXPECT_EQ(backoff_delay(p, 1, 0s, max_bits), 0ns);
  EXPECT_EQ(backoff_delay(p, 1, -3s, max_bits), 0ns);
  std::mt19937_64 rng(5);
  for (int i = 0; i < 1000; ++i) {
    const duration d = backoff_delay(p, 3, 5s, rng());
    ASSERT_GE(d, 5s);
    ASSERT_LE(d, 5500ms);
  }
}

TEST(backoff, distribution_is_not_degenerate) {
  const backoff_policy p;
  std::mt19937_64 rng(11);
  std::set<duration::rep> seen, seen_retry_after;
  duration::rep sum = 0;
  const int n = 10000;
  for (int i = 0; i < n; ++i) {
    const duration d = backoff_delay(p, 5, std::nullopt, rng());  // ceiling 4 s
    seen.insert(d.count());
    sum += d.count();
    seen_retry_after.insert(backoff_delay(p, 5, 10s, rng()).count());
  }
  EXPECT_GT(seen.size(), static_cast<std::size_t>(n * 99 / 100));  // nearly all distinct
  EXPECT_GT(seen_retry_after.size(), static_cast<std::size_t>(n * 99 / 100));
  // Uniform on [0, 4 s]: mean 2 s within 3%.
  const double mean_s = static_cast<double>(sum) / n / 1e9;
  EXPECT_NEAR(mean_s, 2.0, 0.06);
  // Different bits, different delays.
  EXPECT_NE(backoff_delay(p, 5, std::nullopt, 1ULL << 62), backoff_delay(p, 5, std::nullopt, 3ULL << 62));
}

TEST(backoff, custom_policy) {
  backoff_policy p;
  p.base = 100ms;
  p.cap = 1s;
  EXPECT_EQ(backoff_delay(p, 4, std::nullopt, max_bits), 800ms);
  EXPECT_EQ(backoff_delay(p, 5, std::nullopt, max_bits), 1s);
  p.base = 0ms;
  EXPECT_EQ(backoff_delay(p, 9, std::nullopt, max_bits), 0ns);
}
