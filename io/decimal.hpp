// Unsigned decimal text, both ways: writing a u64 (the request encoder, the
// sandbox's responses and stats) and strict parsing (ids in response bodies
// and in the sandbox's request bodies, numeric headers). Header-only and
// allocation-free (except where they append): the encoder inlines write_u64
// into its loop.
//
// Not here: io::parse_id (io/pair_reader.hpp) reads an input file's id
// field, which is lenient where these are strict (it trims spaces and one
// level of quotes) and tells an id that is too large from one that is not
// digits; it reads eight digits at a time.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

namespace hubbatch::io {

namespace decimal_detail {

inline constexpr std::uint64_t powers_of_10[20] = {
    1ULL,
    10ULL,
    100ULL,
    1000ULL,
    10000ULL,
    100000ULL,
    1000000ULL,
    10000000ULL,
    100000000ULL,
    1000000000ULL,
    10000000000ULL,
    100000000000ULL,
    1000000000000ULL,
    10000000000000ULL,
    100000000000000ULL,
    1000000000000000ULL,
    10000000000000000ULL,
    100000000000000000ULL,
    1000000000000000000ULL,
    10000000000000000000ULL,
};

inline constexpr char digit_pairs[201] =
    "00010203040506070809"
    "10111213141516171819"
    "20212223242526272829"
    "30313233343536373839"
    "40414243444546474849"
    "50515253545556575859"
    "60616263646566676869"
    "70717273747576777879"
    "80818283848586878889"
    "90919293949596979899";

// The eight decimal digits of x < 10^8 (leading zeros included) as ASCII,
// the first digit in the lowest byte: split into 4+4, 2+2 and 1+1 digits,
// each step in all lanes of the word at once (the multiply-shifts divide by
// 100 and 10 exactly in the ranges involved).
inline std::uint64_t eight_ascii(std::uint64_t x) noexcept {
  std::uint64_t v = (x / 10000) | ((x % 10000) << 32);             // two 32-bit lanes < 10^4
  std::uint64_t hi = ((v * 10486) >> 20) & 0x0000007F0000007FULL;  // lane / 100
  v = hi | ((v - hi * 100) << 16);                                 // four 16-bit lanes < 100
  hi = ((v * 103) >> 10) & 0x000F000F000F000FULL;                  // lane / 10
  v = hi | ((v - hi * 10) << 8);                                   // eight bytes < 10
  return v + 0x3030303030303030ULL;
}

inline void store8(char* p, std::uint64_t w) noexcept {
  if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
  std::memcpy(p, &w, 8);
}

}  // namespace decimal_detail

// Number of decimal digits of v (1 for 0). bit_width * log10(2) estimates
// the digit count to within one; one table compare settles it. v | 1 has the
// same digit count as v (powers of ten above 1 are even) and avoids log(0).
inline unsigned decimal_digits(std::uint64_t v) noexcept {
  const std::uint64_t x = v | 1;
  const auto t = static_cast<unsigned>(std::bit_width(x) * 1233) >> 12;
  return t + 1 - static_cast<unsigned>(x < decimal_detail::powers_of_10[t]);
}

// Most digits a u64 has (UINT64_MAX): the room write_u64 needs.
inline constexpr std::size_t max_u64_digits = 20;

// Writes the decimal digits of `v` at `p` (needs max_u64_digits bytes, writes
// exactly decimal_digits(v)); returns the end.
inline char* write_u64(char* p, std::uint64_t v) noexcept {
  using namespace decimal_detail;
  // 9 to 16 digits (record ids are 9 to 12): the leading 1-8 digits, then
  // the last eight, each in one conversion and one 8-byte store. The first
  // store's spare bytes are overwritten by the second, so nothing is written
  // beyond the number. A digit pair at a time was ~7% of the client's CPU.
  if (v >= 100000000 && v < 10000000000000000ULL) {
    const std::uint64_t head = v / 100000000;
    const unsigned k = decimal_digits(head);
    store8(p, eight_ascii(head) >> (8 * (8 - k)));
    store8(p + k, eight_ascii(v % 100000000));
    return p + k + 8;
  }
  char* const end = p + decimal_digits(v);
  char* q = end;
  while (v >= 100) {
    const auto r = static_cast<unsigned>(v % 100);
    v /= 100;
    q -= 2;
    std::memcpy(q, digit_pairs + 2 * r, 2);
  }
  if (v >= 10) {
    std::memcpy(q - 2, digit_pairs + 2 * v, 2);
  } else {
    q[-1] = static_cast<char>('0' + v);
  }
  return end;
}

// Appends the decimal digits of `v` to `out`.
inline void append_u64(std::string& out, std::uint64_t v) {
  char buf[max_u64_digits];
  // (pointer, count): append(first, last) goes through replace(), which
  // GCC 12 falsely reports under -Wrestrict once inlined.
  out.append(buf, static_cast<std::size_t>(write_u64(buf, v) - buf));
}

// Parses 1-20 decimal digits whose value is at most `max`; nothing else is
// accepted (no sign, spaces, quotes or other bytes). `out` is left alone on
// failure.
inline bool parse_u64(std::string_view s, std::uint64_t& out,
                      std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) noexcept {
  if (s.empty() || s.size() > max_u64_digits) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    const auto d = static_cast<unsigned>(static_cast<unsigned char>(c) - '0');
    if (d > 9) return false;
    if (v > (max - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

}  // namespace hubbatch::io
