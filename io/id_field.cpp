#include "io/pair_reader.hpp"

#include "io/id_field.hpp"

#include <limits>

namespace hubbatch::io {

std::string_view unquote(std::string_view s) noexcept {
  s = trim_spaces(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = trim_spaces(s.substr(1, s.size() - 2));
  return s;
}

std::optional<reject_reason> parse_id(std::string_view field, std::uint64_t& out) {
  field = unquote(field);
  const std::size_t n = field.size();
  if (n == 0 || n > 20) return reject_reason::bad_id;
  const char* s = field.data();
  std::uint64_t v = 0;
  const std::size_t head = n == 20 ? 19 : n;  // 19 digits always fit in 64 bits
  if (read_digits(s, s + head, v) != s + head) return reject_reason::bad_id;
  if (n == 20) {
    auto d = static_cast<unsigned>(static_cast<unsigned char>(s[19]) - '0');
    if (d > 9) return reject_reason::bad_id;
    constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    if (v > (max - d) / 10) return reject_reason::id_out_of_range;
    v = v * 10 + d;
  }
  out = v;
  return std::nullopt;
}

}  // namespace hubbatch::io
