#include "codec/archive_encoder.hpp"

#include "io/decimal.hpp"

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

inline char* put(char* p, std::string_view s) noexcept {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

}  // namespace

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
      size += from_open.size() + io::decimal_digits(pairs[i].from) + from_close.size() + input_close.size();
    }
    size += to_open.size() + io::decimal_digits(pairs[i].to) + to_close.size();
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
      p = io::write_u64(p, pairs[i].from);
      p = put(p, from_close);
    } else {
      *p++ = ',';
    }
    p = put(p, to_open);
    p = io::write_u64(p, pairs[i].to);
    p = put(p, to_close);
  }
  if (!pairs.empty()) p = put(p, input_close);
  p = put(p, body_close);
  assert(p == begin + size);
  (void)p;
}

}  // namespace hubbatch::codec
