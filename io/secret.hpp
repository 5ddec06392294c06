// Secrets in memory (issue 7): the access token is overwritten before the
// memory holding it is given back, so it does not linger in freed heap
// blocks that a later core dump, swap or memory disclosure could show.
// "Where practical": copies made inside OpenSSL, the kernel or the initial
// environment block are out of reach; hubbatch also turns core dumps off
// for itself (cli/archive_cmd.cpp).
#pragma once

#include <cstddef>
#include <string>

namespace hubbatch::io {

// Overwrites n bytes at p with zeros in a way the optimiser keeps.
void wipe(char* p, std::size_t n) noexcept;

// Overwrites every byte of s (its whole capacity) and empties it.
void wipe(std::string& s) noexcept;

// Reads a small file holding a secret (a token file) into one buffer
// allocated once, with no stream buffers in between to leave copies behind.
// Throws std::runtime_error naming the path (never the contents) when it
// cannot be read or is over 64 KiB.
std::string read_secret_file(const std::string& path);

// Wipes a string when leaving a scope, exceptions included.
class wipe_on_exit {
 public:
  explicit wipe_on_exit(std::string& s) noexcept : s_(s) {}
  wipe_on_exit(const wipe_on_exit&) = delete;
  wipe_on_exit& operator=(const wipe_on_exit&) = delete;
  ~wipe_on_exit() { wipe(s_); }

 private:
  std::string& s_;
};

}  // namespace hubbatch::io
