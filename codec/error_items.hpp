// Inside codec/: the pieces of codec/response.cpp that other decoders of
// HubSpot answers reuse (codec/read_response.cpp), so a body is classified
// and an errors[] item means the same whatever the route. Not for includes
// outside codec/.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

#include "codec/response.hpp"

// A simdjson error ends the decode; everything else (a field of an
// unexpected type, an id that is not decimal) is skipped. Checking type()
// before each getter keeps type mismatches out of the error path.
#define HUBBATCH_TRY(expr)                           \
  do {                                               \
    if (simdjson::error_code e_ = (expr)) return e_; \
  } while (0)

namespace hubbatch::codec::detail {

constexpr bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

inline std::string_view trim_ws(std::string_view s) noexcept {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

// Appends each element of an errors[] array (`v`; another type is skipped)
// as an error_item, scopes named in their contexts to `scopes`. A simdjson
// error ends the decode.
simdjson::error_code take_error_items(simdjson::ondemand::value& v, std::vector<error_item>& items,
                                      std::vector<std::string>& scopes);

// C0 controls and DEL to '?' (tab, CR, LF to ' '), the two-byte UTF-8 C1
// controls (U+0080..U+009F) to one '?'; other UTF-8 kept.
void make_printable(std::string& s);
void make_printable(error_item& e);

// A short printable excerpt of a body that is not a JSON object (the HTML
// <title> when there is one): at most 160 bytes plus "...".
std::string excerpt(std::string_view body);

// The first step of every decoder: an empty body is body_kind::empty, one
// not starting with '{' not_json, else it is parsed in place and
// `decode(doc)` run on it; a body that does not parse, or an error from
// `decode`, is invalid_json. For not_json and invalid_json `message` gets the
// body's excerpt (the caller drops whatever `decode` filled in). simdjson's
// padding goes into the string's own capacity rather than a copy: a reused
// body string allocates only once. `body` keeps its bytes.
template <class Decode>
body_kind parse_object(std::string& body, simdjson::ondemand::parser& parser, std::string& message, Decode&& decode) {
  const std::string_view text = trim_ws(body);
  if (text.empty()) return body_kind::empty;
  if (text.front() != '{') {
    message = excerpt(body);
    return body_kind::not_json;
  }
  const std::size_t size = body.size();
  body.append(simdjson::SIMDJSON_PADDING, ' ');
  body.resize(size);
  const simdjson::padded_string_view padded(body.data(), size, size + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::document doc;
  simdjson::error_code err = parser.iterate(padded).get(doc);
  if (!err) err = decode(doc);
  if (!err) return body_kind::json_object;
  message = excerpt(body);
  return body_kind::invalid_json;
}

}  // namespace hubbatch::codec::detail
