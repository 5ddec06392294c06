// The journal's record encoding, shared by its reader (engine/journal.cpp)
// and its writer (engine/journal_writer.cpp); the format is described in
// engine/journal.hpp. Private to those two files.
#pragma once

#include "engine/journal.hpp"
#include "engine/radix_sort.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <sys/stat.h>

namespace hubbatch::engine::journal_format {


inline constexpr std::size_t head_bytes = 64 * 1024;
inline constexpr std::uint32_t max_record = 64u << 20;  // a larger length field means corruption
inline constexpr std::size_t max_failure_classes = 64;

// strerror's text, thread-safe (the writer thread reports errors too).
inline std::string errno_text() { return std::error_code(errno, std::generic_category()).message(); }

// A journal must be a regular file: reading /dev/full (endless zeros) once
// grew the buffer until std::bad_alloc, opening a FIFO blocks, and a
// directory or device cannot hold a journal anyway.
inline std::string not_a_regular_file(const std::string& path, mode_t mode) {
  const char* what = S_ISDIR(mode)    ? "a directory"
                     : S_ISCHR(mode)  ? "a character device"
                     : S_ISBLK(mode)  ? "a block device"
                     : S_ISFIFO(mode) ? "a FIFO"
                     : S_ISSOCK(mode) ? "a socket"
                                      : "of another kind";
  return "journal '" + path + "' is not a regular file (it is " + what + "): give the path of a file";
}

inline void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

inline std::uint32_t get_u32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

// LEB128: 7 bits a byte, low first, the high bit set on all but the last.
// Writes at most max_varint bytes at p; returns the end.
inline constexpr std::size_t max_varint = 10;
inline char* put_varint(char* p, std::uint64_t v) noexcept {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

inline void put_varint(std::string& out, std::uint64_t v) {
  char buf[max_varint];
  out.append(buf, put_varint(buf, v));
}

inline void put_str(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out += s;
}

// Bounds-checked cursor over one record's payload.
struct cursor {
  const unsigned char* p;
  const unsigned char* end;
  bool ok = true;

  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= end) break;
      unsigned char b = *p++;
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    ok = false;
    return 0;
  }
  std::uint8_t byte() {
    if (p >= end) {
      ok = false;
      return 0;
    }
    return *p++;
  }
  std::string str() {
    std::uint64_t n = varint();
    if (!ok || n > static_cast<std::uint64_t>(end - p)) {
      ok = false;
      return {};
    }
    std::string s(reinterpret_cast<const char*>(p), n);
    p += n;
    return s;
  }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(byte()) << (8 * i);
    return v;
  }
};

// The journal sorts every line it records (std::sort on them was once the
// largest single cost of the unthrottled client, about 9% of its CPU).
// The varints are written in place, into room for the longest.
inline void encode_lines(std::string& out, std::vector<std::uint64_t>& lines) {
  thread_local std::vector<std::uint64_t> scratch;
  radix_sort(lines, scratch, [](std::uint64_t x) { return x; });
  const std::size_t start = out.size();
  out.resize(start + max_varint * (lines.size() + 1));
  char* p = put_varint(out.data() + start, lines.size());
  std::uint64_t prev = 0;
  for (auto l : lines) {
    p = put_varint(p, l - prev);
    prev = l;
  }
  out.resize(static_cast<std::size_t>(p - out.data()));
}

template <typename F>
bool decode_lines(cursor& c, F&& each) {
  std::uint64_t n = c.varint();
  std::uint64_t line = 0;
  for (std::uint64_t i = 0; i < n && c.ok; ++i) {
    line += c.varint();
    if (c.ok) each(line);
  }
  return c.ok;
}

inline std::uint64_t unix_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}


}  // namespace hubbatch::engine::journal_format
