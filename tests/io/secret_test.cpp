#include "io/secret.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

#include <unistd.h>

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

TEST(secret, read_secret_file_reads_small_files_and_refuses_big_ones_without_echoing_them) {
  const std::string path = "/tmp/hubbatch-secret-test-" + std::to_string(::getpid());
  { std::ofstream(path) << "pat-na1-abc\n"; }
  EXPECT_EQ(io::read_secret_file(path), "pat-na1-abc\n");
  { std::ofstream(path) << std::string(64 * 1024 + 1, 'k'); }
  try {
    io::read_secret_file(path);
    ADD_FAILURE() << "a 64 KiB + 1 file was read";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("kkkk"), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
  EXPECT_THROW(io::read_secret_file(path), std::runtime_error);
}
