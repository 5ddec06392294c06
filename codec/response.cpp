#include "codec/response.hpp"

#include "codec/error_items.hpp"

#include "io/decimal.hpp"
#include "io/text.hpp"

#include <simdjson.h>

#include <algorithm>
#include <limits>
#include <utility>

namespace hubbatch::codec {

namespace sj = simdjson::ondemand;

namespace {

using io::iequals;
using io::istarts_with;
using io::lower_ascii;

// Whether `hay` contains `needle` (lower case) ignoring ASCII case.
bool icontains(std::string_view hay, std::string_view needle) noexcept {
  if (needle.size() > hay.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    std::size_t j = 0;
    while (j < needle.size() && lower_ascii(hay[i + j]) == needle[j]) ++j;
    if (j == needle.size()) return true;
  }
  return false;
}

using detail::is_ws;
using detail::trim_ws;

bool parse_non_negative(std::string_view s, std::int64_t& out) noexcept {
  std::uint64_t v = 0;
  if (!io::parse_u64(s, v, static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))) return false;
  out = static_cast<std::int64_t>(v);
  return true;
}

}  // namespace

// A short printable excerpt of a body that is not a JSON object: the HTML
// <title> when there is one, else the first bytes with whitespace runs
// folded. Bytes outside printable ASCII become '?', so the result is safe for
// logs and the failures file whatever the body held.
std::string detail::excerpt(std::string_view body) {
  constexpr std::size_t max_bytes = 160;
  std::string_view text = body;
  for (std::size_t i = 0; i + 7 <= body.size() && i < 4096; ++i) {
    if (body[i] == '<' && iequals(body.substr(i, 7), "<title>")) {
      std::string_view rest = body.substr(i + 7);
      std::size_t end = 0;
      while (end < rest.size() && rest[end] != '<') ++end;
      if (!trim_ws(rest.substr(0, end)).empty()) text = rest.substr(0, end);
      break;
    }
  }
  text = trim_ws(text);
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 3);
  bool space = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (is_ws(static_cast<char>(c))) {
      space = true;
      continue;
    }
    // Room for the folded space and this byte, or the excerpt ends here: at
    // most max_bytes kept plus "..." (a space before the cut could make 161).
    if (out.size() + (space ? 2 : 1) > max_bytes) {
      out += "...";
      break;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  return out;
}

namespace {

using simdjson::error_code;
using simdjson::SUCCESS;

// Copies a string value into `out`. With `keep_raw`, an object or array is
// kept as its raw JSON text (subCategory is an object in the spec). Other
// types leave `out` unchanged.
error_code take_string(sj::value& v, std::string& out, bool keep_raw = false) {
  sj::json_type t;
  HUBBATCH_TRY(v.type().get(t));
  std::string_view s;
  if (t == sj::json_type::string) {
    HUBBATCH_TRY(v.get_string().get(s));
    out.assign(s);
  } else if (keep_raw && t == sj::json_type::object) {
    sj::object o;
    HUBBATCH_TRY(v.get_object().get(o));
    HUBBATCH_TRY(o.raw_json().get(s));
    out.assign(trim_ws(s));
  } else if (keep_raw && t == sj::json_type::array) {
    sj::array a;
    HUBBATCH_TRY(v.get_array().get(a));
    HUBBATCH_TRY(a.raw_json().get(s));
    out.assign(trim_ws(s));
  }
  return SUCCESS;
}

// A non-negative integer that fits int64; anything else leaves `out` unset.
error_code take_count(sj::value& v, std::optional<std::int64_t>& out) {
  sj::json_type t;
  HUBBATCH_TRY(v.type().get(t));
  if (t != sj::json_type::number) return SUCCESS;
  std::int64_t n = 0;
  if (parse_non_negative(trim_ws(v.raw_json_token()), n)) out = n;
  return SUCCESS;
}

// Appends the decimal ids in `v` (a string, a number, or an array of them)
// to `ids`; other values are skipped.
error_code take_ids(sj::value& v, std::vector<std::uint64_t>& ids) {
  sj::json_type t;
  HUBBATCH_TRY(v.type().get(t));
  std::uint64_t id = 0;
  std::string_view s;
  switch (t) {
    case sj::json_type::string:
      HUBBATCH_TRY(v.get_string().get(s));
      if (io::parse_u64(s, id)) ids.push_back(id);
      break;
    case sj::json_type::number:
      if (io::parse_u64(trim_ws(v.raw_json_token()), id)) {
        ids.push_back(id);
      }
      break;
    case sj::json_type::array: {
      sj::array a;
      HUBBATCH_TRY(v.get_array().get(a));
      for (auto item_result : a) {
        sj::value item;
        HUBBATCH_TRY(item_result.get(item));
        sj::json_type it;
        HUBBATCH_TRY(item.type().get(it));
        if (it == sj::json_type::array) continue;  // one level only
        HUBBATCH_TRY(take_ids(item, ids));
      }
      break;
    }
    default:
      break;
  }
  return SUCCESS;
}

// Appends scope names (a string or an array of strings), without duplicates.
error_code take_scopes(sj::value& v, std::vector<std::string>& scopes) {
  sj::json_type t;
  HUBBATCH_TRY(v.type().get(t));
  auto add = [&](std::string_view s) {
    s = trim_ws(s);
    if (!s.empty() && std::find(scopes.begin(), scopes.end(), s) == scopes.end()) scopes.emplace_back(s);
  };
  std::string_view s;
  if (t == sj::json_type::string) {
    HUBBATCH_TRY(v.get_string().get(s));
    add(s);
  } else if (t == sj::json_type::array) {
    sj::array a;
    HUBBATCH_TRY(v.get_array().get(a));
    for (auto item_result : a) {
      sj::value item;
      HUBBATCH_TRY(item_result.get(item));
      sj::json_type it;
      HUBBATCH_TRY(item.type().get(it));
      if (it != sj::json_type::string) continue;
      HUBBATCH_TRY(item.get_string().get(s));
      add(s);
    }
  }
  return SUCCESS;
}

// A `context` object: {"fromObjectId": ["1"], "toObjectId": ["2"],
// "requiredGranularScopes": [...], ...}. Keys containing "from" give from
// ids, keys starting with "to" give to ids; their non-decimal values (object
// types, say) are skipped.
error_code take_context(sj::value& v, std::vector<std::uint64_t>& from_ids, std::vector<std::uint64_t>& to_ids,
                        std::vector<std::string>& scopes) {
  sj::json_type t;
  HUBBATCH_TRY(v.type().get(t));
  if (t != sj::json_type::object) return SUCCESS;
  sj::object o;
  HUBBATCH_TRY(v.get_object().get(o));
  for (auto field_result : o) {
    sj::field f;
    HUBBATCH_TRY(std::move(field_result).get(f));
    std::string_view key;
    HUBBATCH_TRY(f.unescaped_key().get(key));
    sj::value& value = f.value();
    if (iequals(key, "requiredGranularScopes") || iequals(key, "requiredScopes")) {
      HUBBATCH_TRY(take_scopes(value, scopes));
    } else if (icontains(key, "from")) {
      HUBBATCH_TRY(take_ids(value, from_ids));
    } else if (istarts_with(key, "to")) {
      HUBBATCH_TRY(take_ids(value, to_ids));
    }
  }
  return SUCCESS;
}

// One element of errors[]. Nested errors[] (the spec's ErrorDetail list)
// contribute their context to this item; their messages are not kept.
error_code take_error_item(sj::value& v, error_item& item, std::vector<std::string>& scopes, int depth) {
  sj::json_type t;
  HUBBATCH_TRY(v.type().get(t));
  if (t != sj::json_type::object) {
    // Keep the count honest: a non-object entry is still an error.
    HUBBATCH_TRY(take_string(v, item.message, true));
    return SUCCESS;
  }
  sj::object o;
  HUBBATCH_TRY(v.get_object().get(o));
  for (auto field_result : o) {
    sj::field f;
    HUBBATCH_TRY(std::move(field_result).get(f));
    std::string_view key;
    HUBBATCH_TRY(f.unescaped_key().get(key));
    sj::value& value = f.value();
    if (depth > 0) {
      if (key == "context") HUBBATCH_TRY(take_context(value, item.from_ids, item.to_ids, scopes));
      continue;
    }
    if (key == "category") {
      HUBBATCH_TRY(take_string(value, item.category));
    } else if (key == "subCategory") {
      HUBBATCH_TRY(take_string(value, item.sub_category, true));
    } else if (key == "message") {
      HUBBATCH_TRY(take_string(value, item.message));
    } else if (key == "context") {
      HUBBATCH_TRY(take_context(value, item.from_ids, item.to_ids, scopes));
    } else if (key == "errors") {
      sj::json_type et;
      HUBBATCH_TRY(value.type().get(et));
      if (et != sj::json_type::array) continue;
      sj::array a;
      HUBBATCH_TRY(value.get_array().get(a));
      for (auto detail_result : a) {
        sj::value detail;
        HUBBATCH_TRY(detail_result.get(detail));
        sj::json_type dt;
        HUBBATCH_TRY(detail.type().get(dt));
        if (dt == sj::json_type::object) HUBBATCH_TRY(take_error_item(detail, item, scopes, depth + 1));
      }
    }
  }
  return SUCCESS;
}

}  // namespace

error_code detail::take_error_items(sj::value& v, std::vector<error_item>& items, std::vector<std::string>& scopes) {
  sj::json_type t;
  HUBBATCH_TRY(v.type().get(t));
  if (t != sj::json_type::array) return SUCCESS;
  sj::array a;
  HUBBATCH_TRY(v.get_array().get(a));
  for (auto item_result : a) {
    sj::value item;
    HUBBATCH_TRY(item_result.get(item));
    HUBBATCH_TRY(take_error_item(item, items.emplace_back(), scopes, 0));
  }
  return SUCCESS;
}

namespace {

error_code take_errors(sj::value& v, decoded_response& out) {
  return detail::take_error_items(v, out.errors, out.required_scopes);
}

error_code decode_object(sj::document& doc, decoded_response& out, std::optional<std::int64_t>& num_errors) {
  sj::object o;
  HUBBATCH_TRY(doc.get_object().get(o));
  for (auto field_result : o) {
    sj::field f;
    HUBBATCH_TRY(std::move(field_result).get(f));
    std::string_view key;
    HUBBATCH_TRY(f.unescaped_key().get(key));
    sj::value& value = f.value();
    if (key == "status") {
      HUBBATCH_TRY(take_string(value, out.status));
    } else if (key == "message") {
      HUBBATCH_TRY(take_string(value, out.message));
    } else if (key == "category") {
      HUBBATCH_TRY(take_string(value, out.category));
    } else if (key == "subCategory") {
      HUBBATCH_TRY(take_string(value, out.sub_category, true));
    } else if (key == "correlationId") {
      HUBBATCH_TRY(take_string(value, out.correlation_id));
    } else if (key == "errorType") {
      HUBBATCH_TRY(take_string(value, out.error_type));
    } else if (key == "policyName") {
      HUBBATCH_TRY(take_string(value, out.policy_name));
    } else if (key == "numErrors") {
      HUBBATCH_TRY(take_count(value, num_errors));
    } else if (key == "errors") {
      HUBBATCH_TRY(take_errors(value, out));
    } else if (key == "context") {
      HUBBATCH_TRY(take_context(value, out.context_from_ids, out.context_to_ids, out.required_scopes));
    }
  }
  // Trailing bytes after the object make the body invalid. current_location
  // reports OUT_OF_BOUNDS exactly when the whole document was consumed.
  const char* rest = nullptr;
  if (doc.current_location().get(rest) == SUCCESS) return simdjson::TRAILING_CONTENT;
  return SUCCESS;
}

#undef HUBBATCH_TRY

constexpr std::string_view too_large_text = "maximum number of inputs";

// The limit a "too many inputs" message states ("... in a batch is 100."):
// the first number after the phrase; -1 when there is none.
std::int64_t stated_limit(std::string_view message) {
  std::size_t at = 0;
  for (; at + too_large_text.size() <= message.size(); ++at)
    if (icontains(message.substr(at, too_large_text.size()), too_large_text)) break;
  std::size_t i = message.find_first_of("0123456789", at);
  if (i == std::string_view::npos) return -1;
  std::int64_t n = 0;
  for (; i < message.size() && message[i] >= '0' && message[i] <= '9'; ++i) {
    if (n > 1'000'000'000) return -1;
    n = n * 10 + (message[i] - '0');
  }
  return n;
}

}  // namespace

// ------------------------------------------------------------ headers -----

bool rate_limit_headers::offer(std::string_view name, std::string_view value) {
  value = trim_ws(value);
  std::int64_t n = 0;
  auto number = [&](std::optional<std::int64_t>& field) {
    if (parse_non_negative(value, n)) field = n;
    return true;
  };
  if (istarts_with(name, "x-hubspot-ratelimit-")) {
    std::string_view rest = name.substr(20);
    if (iequals(rest, "max")) return number(max);
    if (iequals(rest, "remaining")) return number(remaining);
    if (iequals(rest, "interval-milliseconds")) return number(interval_ms);
    if (iequals(rest, "daily")) return number(daily);
    if (iequals(rest, "daily-remaining")) return number(daily_remaining);
    if (iequals(rest, "secondly")) return number(secondly);
    if (iequals(rest, "secondly-remaining")) return number(secondly_remaining);
    return false;
  }
  auto wait = [&](std::int64_t ms) {
    // Both forms may come; the longer wait is the safe one.
    if (!retry_after_ms || *retry_after_ms < ms) retry_after_ms = ms;
    return true;
  };
  if (iequals(name, "retry-after")) {
    constexpr std::int64_t max_seconds = std::numeric_limits<std::int64_t>::max() / 1000;
    if (parse_non_negative(value, n) && n <= max_seconds) wait(n * 1000);
    return true;  // an HTTP date is recognised but ignored
  }
  if (iequals(name, "retry-after-ms")) {
    if (parse_non_negative(value, n)) wait(n);
    return true;
  }
  auto take_id = [&]() {
    constexpr std::size_t max_id_bytes = 128;
    correlation_id.clear();
    for (char c : value.substr(0, max_id_bytes)) {
      auto u = static_cast<unsigned char>(c);
      correlation_id.push_back(u >= 0x20 && u < 0x7f ? c : '?');
    }
    return true;
  };
  if (iequals(name, "x-hubspot-correlation-id")) {
    if (!value.empty()) take_id();
    return true;
  }
  if (iequals(name, "x-request-id")) {
    // Only a fallback: x-hubspot-correlation-id wins in either order.
    if (correlation_id.empty() && !value.empty()) take_id();
    return true;
  }
  return false;
}

// ------------------------------------------------------------ bodies ------

const char* to_string(body_kind k) {
  switch (k) {
    case body_kind::empty: return "empty";
    case body_kind::json_object: return "json_object";
    case body_kind::not_json: return "not_json";
    case body_kind::invalid_json: return "invalid_json";
  }
  return "unknown";
}

void decoded_response::clear() {
  kind = body_kind::empty;
  status.clear();
  message.clear();
  category.clear();
  sub_category.clear();
  correlation_id.clear();
  error_type.clear();
  policy_name.clear();
  num_errors = 0;
  errors.clear();
  required_scopes.clear();
  context_from_ids.clear();
  context_to_ids.clear();
  batch_too_large = false;
  batch_limit = -1;
}

// Control characters out: C0 and DEL to '?' (whitespace to ' '), and the
// two-byte UTF-8 forms of C1 controls (U+0080..U+009F, e.g. the 8-bit CSI
// U+009B) to one '?'.
void detail::make_printable(std::string& s) {
  std::size_t w = 0;
  for (std::size_t r = 0; r < s.size(); ++r) {
    auto c = static_cast<unsigned char>(s[r]);
    if (c == '\t' || c == '\r' || c == '\n') {
      s[w++] = ' ';
    } else if (c < 0x20 || c == 0x7f) {
      s[w++] = '?';
    } else if (c == 0xC2 && r + 1 < s.size() && static_cast<unsigned char>(s[r + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[r + 1]) <= 0x9F) {
      s[w++] = '?';
      ++r;
    } else {
      s[w++] = s[r];
    }
  }
  s.resize(w);
}

void detail::make_printable(error_item& e) {
  make_printable(e.category);
  make_printable(e.sub_category);
  make_printable(e.message);
}

namespace {

void make_printable(decoded_response& r) {
  for (auto* s : {&r.status, &r.message, &r.category, &r.sub_category, &r.correlation_id, &r.error_type,
                  &r.policy_name})
    detail::make_printable(*s);
  for (auto& e : r.errors) detail::make_printable(e);
  for (auto& s : r.required_scopes) detail::make_printable(s);
}

void redact_in(std::string& s, std::string_view secret) {
  static constexpr std::string_view mask = "[REDACTED]";
  for (std::size_t at = s.find(secret); at != std::string::npos; at = s.find(secret, at + mask.size()))
    s.replace(at, secret.size(), mask);
}

}  // namespace

void redact(decoded_response& r, std::string_view secret) {
  if (secret.size() < 8) return;
  for (auto* s : {&r.status, &r.message, &r.category, &r.sub_category, &r.correlation_id, &r.error_type,
                  &r.policy_name})
    redact_in(*s, secret);
  for (auto& e : r.errors) {
    redact_in(e.category, secret);
    redact_in(e.sub_category, secret);
    redact_in(e.message, secret);
  }
  for (auto& s : r.required_scopes) redact_in(s, secret);
}

struct response_decoder::impl {
  sj::parser parser;
};

response_decoder::response_decoder() : impl_(std::make_unique<impl>()) {}
response_decoder::~response_decoder() = default;

void response_decoder::decode(std::string& body, decoded_response& out) {
  out.clear();
  std::optional<std::int64_t> num_errors;
  std::string excerpt;
  const body_kind kind = detail::parse_object(body, impl_->parser, excerpt, [&](sj::document& doc) {
    return decode_object(doc, out, num_errors);
  });
  if (kind != body_kind::json_object) {
    // HTML, plain text, a JSON array or scalar, or a body that does not
    // parse: partially decoded fields are dropped, such a body is not
    // evidence of anything but itself.
    out.clear();
    out.kind = kind;
    out.message = std::move(excerpt);
    return;
  }
  out.kind = body_kind::json_object;
  make_printable(out);
  out.num_errors = num_errors ? *num_errors : static_cast<std::int64_t>(out.errors.size());
  if (icontains(out.message, too_large_text)) {
    out.batch_too_large = true;
    out.batch_limit = stated_limit(out.message);
  } else {
    for (const auto& e : out.errors) {
      if (!icontains(e.message, too_large_text)) continue;
      out.batch_too_large = true;
      out.batch_limit = stated_limit(e.message);
    }
  }
}

}  // namespace hubbatch::codec
