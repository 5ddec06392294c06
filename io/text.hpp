// Small text helpers shared by the reader, the decoder, the engine, the
// sandbox and the CLI: ASCII case-insensitive comparison and JSON string
// escaping (optionally replacing invalid UTF-8). Header-only and
// allocation-free (except where they append).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hubbatch::io {

constexpr char lower_ascii(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower_ascii(a[i]) != lower_ascii(b[i])) return false;
  return true;
}

constexpr bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// Length of the valid UTF-8 sequence starting at s[i], 0 when invalid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
inline std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return len;
}

// What append_json_escaped does with bytes that are not valid UTF-8.
enum class invalid_utf8 {
  pass,     // copied as they are (the caller knows the text is UTF-8)
  replace,  // each becomes U+FFFD, so the output always parses as JSON
};

// Appends `s` as the contents of a JSON string (no quotes): quotes,
// backslashes and control characters (DEL included) escaped; valid UTF-8
// passes through; invalid bytes as `bad` says.
inline void append_json_escaped(std::string& out, std::string_view s, invalid_utf8 bad = invalid_utf8::pass) {
  static constexpr char hex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80 && bad == invalid_utf8::replace) {
      if (const std::size_t len = utf8_length(s, i)) {
        out.append(s.substr(i, len));
        i += len;
      } else {
        out += "\\ufffd";
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
}

}  // namespace hubbatch::io
