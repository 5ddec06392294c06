#include "io/decimal.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <string_view>

namespace {

using hubbatch::io::append_u64;
using hubbatch::io::decimal_digits;
using hubbatch::io::parse_u64;
using hubbatch::io::write_u64;

TEST(write_u64, edge_values) {
  const std::pair<std::uint64_t, std::string_view> cases[] = {
      {0, "0"},
      {9, "9"},
      {10, "10"},
      {99, "99"},
      {100, "100"},
      {101, "101"},
      {999999999, "999999999"},
      {1000000000, "1000000000"},
      {9999999999999999999ULL, "9999999999999999999"},
      {10000000000000000000ULL, "10000000000000000000"},
      {std::numeric_limits<std::uint64_t>::max(), "18446744073709551615"},
  };
  for (const auto& [v, s] : cases) {
    char buf[24];
    std::memset(buf, 'x', sizeof buf);
    char* end = write_u64(buf, v);
    EXPECT_EQ(std::string_view(buf, static_cast<std::size_t>(end - buf)), s);
    EXPECT_EQ(*end, 'x') << "wrote past the end";
  }
}

TEST(write_u64, matches_to_string_at_every_power_of_ten_boundary) {
  std::uint64_t p = 1;
  for (int k = 0; k < 20; ++k) {
    for (std::uint64_t v : {p - 1, p, p + 1}) {
      char buf[20];
      char* end = write_u64(buf, v);
      ASSERT_EQ(std::string(buf, end), std::to_string(v));
    }
    if (k < 19) p *= 10;
  }
  std::mt19937_64 rng(42);
  for (int i = 0; i < 100000; ++i) {
    std::uint64_t v = rng() >> (rng() % 64);
    char buf[28];
    std::memset(buf, 'x', sizeof buf);
    char* end = write_u64(buf, v);
    ASSERT_EQ(std::string(buf, end), std::to_string(v));
    ASSERT_EQ(std::string(end, buf + sizeof buf), std::string(static_cast<std::size_t>(buf + sizeof buf - end), 'x'))
        << v << ": wrote past the end";
  }
  // Every digit count with every digit in every position (the 8-digit
  // conversion works on all positions of a word at once).
  for (int digits = 1; digits <= 20; ++digits) {
    // (20 digits: "10" then any, to stay below 2^64.)
    for (int pos = digits == 20 ? 2 : 0; pos < digits; ++pos) {
      for (char d = '0'; d <= '9'; ++d) {
        std::string s(static_cast<std::size_t>(digits), '5');
        if (digits == 20) s.replace(0, 2, "10");
        s[static_cast<std::size_t>(pos)] = (pos == 0 && d == '0') ? '1' : d;
        const std::uint64_t v = std::stoull(s);
        char buf[20];
        char* end = write_u64(buf, v);
        ASSERT_EQ(std::string(buf, end), s);
      }
    }
  }
}

TEST(decimal_digits, every_power_of_ten_boundary) {
  EXPECT_EQ(decimal_digits(0), 1u);
  std::uint64_t p = 1;
  for (unsigned k = 1; k <= 20; ++k) {
    EXPECT_EQ(decimal_digits(p), k) << p;
    if (k > 1) {
      EXPECT_EQ(decimal_digits(p - 1), k - 1) << p - 1;
    }
    if (k < 20) p *= 10;
  }
  EXPECT_EQ(decimal_digits(std::numeric_limits<std::uint64_t>::max()), 20u);
}

TEST(append_u64, appends_without_clearing) {
  std::string s = "n=";
  append_u64(s, 0);
  s += ',';
  append_u64(s, 123456789012ULL);
  s += ',';
  append_u64(s, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(s, "n=0,123456789012,18446744073709551615");
}

TEST(parse_u64, digits_only) {
  std::uint64_t v = 7;
  EXPECT_TRUE(parse_u64("0", v));
  EXPECT_EQ(v, 0u);
  EXPECT_TRUE(parse_u64("007", v));
  EXPECT_EQ(v, 7u);
  EXPECT_TRUE(parse_u64("18446744073709551615", v));
  EXPECT_EQ(v, std::numeric_limits<std::uint64_t>::max());
  EXPECT_TRUE(parse_u64("00000000000000000001", v));  // 20 digits
  EXPECT_EQ(v, 1u);
  v = 7;
  for (std::string_view bad : {"", " 1", "1 ", "\"1\"", "+1", "-1", "1.0", "1e3", "0x1", "12a", "\t1",
                               "18446744073709551616", "99999999999999999999", "000000000000000000001"}) {
    EXPECT_FALSE(parse_u64(bad, v)) << bad;
    EXPECT_EQ(v, 7u) << "changed on failure: " << bad;
  }
}

TEST(parse_u64, max_bounds_the_value) {
  constexpr auto i64_max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  std::uint64_t v = 0;
  EXPECT_TRUE(parse_u64("9223372036854775807", v, i64_max));
  EXPECT_EQ(v, i64_max);
  EXPECT_FALSE(parse_u64("9223372036854775808", v, i64_max));
  EXPECT_TRUE(parse_u64("100", v, 100));
  EXPECT_FALSE(parse_u64("101", v, 100));
}

TEST(parse_u64, round_trips_write_u64) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t v = rng() >> (rng() % 64);
    char buf[20];
    std::uint64_t back = 0;
    ASSERT_TRUE(parse_u64(std::string_view(buf, static_cast<std::size_t>(write_u64(buf, v) - buf)), back)) << v;
    ASSERT_EQ(back, v);
  }
}

}  // namespace
