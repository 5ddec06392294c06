// Inside codec/: the pieces of codec/response.cpp that other decoders of
// HubSpot answers reuse (codec/read_response.cpp), so an errors[] item means
// the same whatever the route. Not for includes outside codec/.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

#include "codec/response.hpp"

namespace hubbatch::codec::detail {

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

}  // namespace hubbatch::codec::detail
