#include "codec/archive_encoder.hpp"

#include <bit>
#include <cassert>
#include <cstring>

namespace hubbatch::codec {

namespace {

constexpr std::string_view body_open = "{\"inputs\":[";
constexpr std::string_view body_close = "]}";
constexpr std::string_view from_open = "{\"from\":{\"id\":\"";
constexpr std::string_view from_close = "\"},\"to\":[";
constexpr std::string_view input_close = "]}";
constexpr std::string_view to_open = "{\"id\":\"";
constexpr std::string_view to_close = "\"}";

constexpr std::uint64_t powers_of_10[20] = {
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

// Number of decimal digits of v (1 for 0). bit_width * log10(2) estimates
// the digit count to within one; one table compare settles it. v | 1 has the
// same digit count as v (powers of ten above 1 are even) and avoids log(0).
inline unsigned decimal_digits(std::uint64_t v) noexcept {
  const std::uint64_t x = v | 1;
  const auto t = static_cast<unsigned>(std::bit_width(x) * 1233) >> 12;
  return t + 1 - static_cast<unsigned>(x < powers_of_10[t]);
}

constexpr char digit_pairs[201] =
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

inline char* put(char* p, std::string_view s) noexcept {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// The eight decimal digits of x < 10^8 (leading zeros included) as ASCII,
// the first digit in the lowest byte: split into 4+4, 2+2 and 1+1 digits,
// each step in all lanes of the word at once (the multiply-shifts divide by
// 100 and 10 exactly in the ranges involved).
std::uint64_t eight_ascii(std::uint64_t x) noexcept {
  std::uint64_t v = (x / 10000) | ((x % 10000) << 32);      // two 32-bit lanes < 10^4
  std::uint64_t hi = ((v * 10486) >> 20) & 0x0000007F0000007FULL;  // lane / 100
  v = hi | ((v - hi * 100) << 16);                           // four 16-bit lanes < 100
  hi = ((v * 103) >> 10) & 0x000F000F000F000FULL;            // lane / 10
  v = hi | ((v - hi * 10) << 8);                             // eight bytes < 10
  return v + 0x3030303030303030ULL;
}

void store8(char* p, std::uint64_t w) noexcept {
  if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
  std::memcpy(p, &w, 8);
}

// write_u64, inlined into the encoder's loop.
inline char* put_u64(char* p, std::uint64_t v) noexcept {
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

}  // namespace

char* write_u64(char* p, std::uint64_t v) noexcept { return put_u64(p, v); }

std::size_t count_inputs(std::span<const pair_id> pairs) noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    if (i == 0 || pairs[i].from != pairs[i - 1].from) ++n;
  }
  return n;
}

void encode_archive_body(std::span<const pair_id> pairs, std::string& out) {
  // Exact size first, so `out` grows at most once and is written in place.
  std::size_t size = body_open.size() + body_close.size();
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    if (i == 0 || pairs[i].from != pairs[i - 1].from) {
      size += from_open.size() + decimal_digits(pairs[i].from) + from_close.size() + input_close.size();
    }
    size += to_open.size() + decimal_digits(pairs[i].to) + to_close.size();
  }
  // Separators: one between inputs plus one between the tos of each input,
  // which together is one fewer than the pairs.
  if (!pairs.empty()) size += pairs.size() - 1;

  const std::size_t start = out.size();
  out.resize(start + size);
  char* const begin = out.data() + start;
  char* p = put(begin, body_open);
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    if (i == 0 || pairs[i].from != pairs[i - 1].from) {
      if (i != 0) {
        p = put(p, input_close);
        *p++ = ',';
      }
      p = put(p, from_open);
      p = put_u64(p, pairs[i].from);
      p = put(p, from_close);
    } else {
      *p++ = ',';
    }
    p = put(p, to_open);
    p = put_u64(p, pairs[i].to);
    p = put(p, to_close);
  }
  if (!pairs.empty()) p = put(p, input_close);
  p = put(p, body_close);
  assert(p == begin + size);
  (void)p;
}

}  // namespace hubbatch::codec
