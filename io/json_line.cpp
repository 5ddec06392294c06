#include "io/json_line.hpp"

#include "io/text.hpp"

#include <cstddef>

namespace hubbatch::io {

namespace {

// A small strict scanner for one line holding one JSON object. It validates
// the whole line (so `{"from":1,"to":2,}` is bad_json) but only materialises
// the values of json_pair_fields' keys. Local to this file, so that the compiler inlines its
// steps as it did when it was local to io/pair_reader.cpp.

class json_line_scanner {
 public:
  json_line_scanner(const char* s, std::size_t n) : p_(s), e_(s + n) {}

  // Scans the line; false if it is not exactly one JSON object.
  bool scan_object(json_pair_fields& fields) {
    skip_ws();
    if (!eat('{')) return false;
    skip_ws();
    if (eat('}')) return at_end_after_ws();
    for (;;) {
      skip_ws();
      json_value_ref key;
      if (!scan_string(key)) return false;
      skip_ws();
      if (!eat(':')) return false;
      skip_ws();
      json_value_ref* slot = nullptr;
      if (!key.escaped) {
        if (iequals(key.text, "from") || iequals(key.text, "fromObjectId") || iequals(key.text, "from_id")) {
          slot = &fields.from;
        } else if (iequals(key.text, "to") || iequals(key.text, "toObjectId") || iequals(key.text, "to_id")) {
          slot = &fields.to;
        } else if (iequals(key.text, "category") || iequals(key.text, "associationCategory") ||
                   iequals(key.text, "association_category")) {
          slot = &fields.category;
        } else if (iequals(key.text, "type_id") || iequals(key.text, "typeId") ||
                   iequals(key.text, "associationTypeId") || iequals(key.text, "association_type_id")) {
          slot = &fields.type_id;
        } else if (iequals(key.text, "id") || iequals(key.text, "record_id") || iequals(key.text, "hs_object_id") ||
                   iequals(key.text, "object_id")) {
          slot = &fields.id;
        }
      }
      json_value_ref value;
      if (!scan_value(value, 0)) return false;
      if (slot) *slot = value;  // a repeated key: the last one wins, as in most JSON parsers
      skip_ws();
      if (eat(',')) continue;
      if (eat('}')) return at_end_after_ws();
      return false;
    }
  }

 private:
  static constexpr int max_depth = 64;

  void skip_ws() noexcept {
    while (p_ < e_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\r' || *p_ == '\n')) ++p_;
  }
  bool eat(char c) noexcept {
    if (p_ < e_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool at_end_after_ws() noexcept {
    skip_ws();
    return p_ == e_;
  }
  static bool is_hex(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  bool scan_string(json_value_ref& v) noexcept {
    if (!eat('"')) return false;
    const char* start = p_;
    v.escaped = false;
    while (p_ < e_) {
      char c = *p_;
      if (c == '"') {
        v.kind = json_kind::string;
        v.text = std::string_view(start, static_cast<std::size_t>(p_ - start));
        ++p_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c == '\\') {
        v.escaped = true;
        if (++p_ == e_) return false;
        switch (*p_) {
          case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            ++p_;
            break;
          case 'u':
            if (e_ - p_ < 5) return false;
            for (int i = 1; i <= 4; ++i) {
              if (!is_hex(p_[i])) return false;
            }
            p_ += 5;
            break;
          default:
            return false;
        }
        continue;
      }
      ++p_;
    }
    return false;
  }

  // JSON number grammar, except that leading zeros are tolerated (an id
  // written as 007 is still the id 7).
  bool scan_number(json_value_ref& v) noexcept {
    const char* start = p_;
    eat('-');
    if (!scan_digits()) return false;
    if (eat('.') && !scan_digits()) return false;
    if (p_ < e_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (!eat('+')) eat('-');
      if (!scan_digits()) return false;
    }
    v.kind = json_kind::number;
    v.text = std::string_view(start, static_cast<std::size_t>(p_ - start));
    return true;
  }
  bool scan_digits() noexcept {
    const char* start = p_;
    while (p_ < e_ && *p_ >= '0' && *p_ <= '9') ++p_;
    return p_ != start;
  }
  bool scan_literal(std::string_view lit) noexcept {
    if (static_cast<std::size_t>(e_ - p_) < lit.size() || std::string_view(p_, lit.size()) != lit) return false;
    p_ += lit.size();
    return true;
  }

  bool scan_value(json_value_ref& v, int depth) noexcept {
    if (p_ == e_) return false;
    const char* start = p_;
    switch (*p_) {
      case '"':
        return scan_string(v);
      case '-': case '0': case '1': case '2': case '3': case '4':
      case '5': case '6': case '7': case '8': case '9':
        return scan_number(v);
      case 't':
        if (!scan_literal("true")) return false;
        break;
      case 'f':
        if (!scan_literal("false")) return false;
        break;
      case 'n':
        if (!scan_literal("null")) return false;
        break;
      case '{':
      case '[':
        if (!scan_container(depth + 1)) return false;
        break;
      default:
        return false;
    }
    v.kind = json_kind::other;
    v.text = std::string_view(start, static_cast<std::size_t>(p_ - start));
    return true;
  }

  bool scan_container(int depth) noexcept {
    if (depth > max_depth) return false;
    const bool object = *p_ == '{';
    const char close = object ? '}' : ']';
    ++p_;
    skip_ws();
    if (eat(close)) return true;
    for (;;) {
      skip_ws();
      json_value_ref ignored;
      if (object) {
        if (!scan_string(ignored)) return false;
        skip_ws();
        if (!eat(':')) return false;
        skip_ws();
      }
      if (!scan_value(ignored, depth)) return false;
      skip_ws();
      if (eat(',')) continue;
      return eat(close);
    }
  }

  const char* p_;
  const char* e_;
};

}  // namespace

bool scan_json_object(std::string_view line, json_pair_fields& fields) {
  return json_line_scanner(line.data(), line.size()).scan_object(fields);
}

}  // namespace hubbatch::io
