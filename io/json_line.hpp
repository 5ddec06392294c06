// The NDJSON line scanner of the pair reader (io/pair_reader.cpp): private
// to io/.
#pragma once

#include <string_view>

namespace hubbatch::io {

enum class json_kind { none, string, number, other };

struct json_value_ref {
  json_kind kind = json_kind::none;
  std::string_view text;   // string contents (between the quotes) or number token
  bool escaped = false;    // string contained a backslash escape
};

// Scans one line holding one JSON object, strictly: false unless the whole
// line is exactly one object (so `{"from":1,"to":2,}` is not), but only the
// values of the from keys (from, fromObjectId, from_id) and the to keys (to,
// toObjectId, to_id), matched case-insensitively when not escaped, are
// materialised, into `from` and `to` (a repeated key: the last one wins);
// they are left alone when absent. UTF-8 was validated by the caller.
bool scan_json_object(std::string_view line, json_value_ref& from, json_value_ref& to);

}  // namespace hubbatch::io
