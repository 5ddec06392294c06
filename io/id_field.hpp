// An input line's id field, for the pair reader (io/pair_reader.cpp,
// io/input_format.cpp, io/id_field.cpp; parse_id is declared in
// io/pair_reader.hpp): private to io/. The spaces and one level of double
// quotes around a field, and its digits read eight at a time. read_digits
// and its helpers are inline here: the plain-line fast path
// (pair_parser::impl::plain_line) calls read_digits in its hot loop.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace hubbatch::io {

constexpr bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

inline std::string_view trim_spaces(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Spaces, then one level of double quotes, then spaces inside them. Out of
// line (io/id_field.cpp), as it was when the reader was one file: inlined,
// it doubled the size of the general path's functions.
std::string_view unquote(std::string_view s) noexcept;

namespace id_detail {

// Eight ASCII digits at once (SWAR, as simdjson and fast_float do). Ids are
// 9 to 20 digits, and a digit at a time was the largest cost of reading the
// input.
//
// 0x80 in each byte of w that is not '0'..'9'; exact up to and including the
// first such byte (the carries and borrows that may blur the bytes after it
// cannot reach it from the digits below), which is all the callers use.
inline std::uint64_t non_digits(std::uint64_t w) noexcept {
  return ((w + 0x4646464646464646ULL) | (w - 0x3030303030303030ULL)) & 0x8080808080808080ULL;
}

// The value of eight digit bytes, the first (lowest address) the most significant.
inline std::uint64_t eight_digits_value(std::uint64_t w) noexcept {
  constexpr std::uint64_t mask = 0x000000FF000000FFULL;
  constexpr std::uint64_t mul1 = 0x000F424000000064ULL;  // 100 + (1000000 << 32)
  constexpr std::uint64_t mul2 = 0x0000271000000001ULL;  // 1 + (10000 << 32)
  w -= 0x3030303030303030ULL;
  w = (w * 10) + (w >> 8);
  return (((w & mask) * mul1) + (((w >> 16) & mask) * mul2)) >> 32;
}

inline constexpr std::uint64_t pow10_below_8[8] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};

inline std::uint64_t load8(const char* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
  return w;
}

}  // namespace id_detail

// The digits at p (none read at or past end) into v: the first byte after
// them, or null when there are none or more than 19 (the general path then
// decides, as a 20-digit id may still fit or be out of range).
inline const char* read_digits(const char* p, const char* end, std::uint64_t& v) noexcept {
  using namespace id_detail;
  const char* const start = p;
  const auto result = [start](const char* q) { return q == start || q - start > 19 ? nullptr : q; };
  v = 0;
  while (end - p >= 8) {
    const std::uint64_t w = load8(p);
    const std::uint64_t bad = non_digits(w);
    if (bad == 0) {
      v = v * 100000000 + eight_digits_value(w);
      p += 8;
      continue;
    }
    // k digits, then the first non-digit: move the k digits to the top of
    // the word behind leading '0's and read them the same way.
    const auto k = static_cast<unsigned>(std::countr_zero(bad)) / 8;
    if (k > 0) {
      v = v * pow10_below_8[k] + eight_digits_value((w << (64 - 8 * k)) | (0x3030303030303030ULL >> (8 * k)));
      p += k;
    }
    return result(p);
  }
  while (p < end) {
    const auto d = static_cast<unsigned>(static_cast<unsigned char>(*p) - '0');
    if (d > 9) break;
    v = v * 10 + d;
    ++p;
  }
  return result(p);
}

}  // namespace hubbatch::io
