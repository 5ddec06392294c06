#include "io/secret.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace hubbatch;

TEST(secret, wipe_zeroes_the_whole_buffer_and_empties_the_string) {
  std::string s(200, 'x');
  s = "pat-na1-short";  // a shorter value in the same buffer: the old bytes sit past size()
  const char* p = s.data();
  const std::size_t cap = s.capacity();
  ASSERT_GE(cap, 200u);
  io::wipe(s);
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.data(), p) << "clear() keeps the buffer, so the check below reads owned memory";
  for (std::size_t i = 0; i < cap; ++i) ASSERT_EQ(p[i], '\0') << "byte " << i;
}

TEST(secret, wipe_on_exit_wipes_when_leaving_by_exception) {
  std::string token = "pat-na1-0123456789abcdef0123456789abcdef";
  try {
    io::wipe_on_exit guard(token);
    throw std::runtime_error("boom");
  } catch (const std::runtime_error&) {
  }
  EXPECT_TRUE(token.empty());
}
