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

// The values of one line's keys that the reader uses.
struct json_pair_fields {
  json_value_ref from;      // from, fromObjectId, from_id
  json_value_ref to;        // to, toObjectId, to_id
  json_value_ref category;  // category, association_category, associationCategory
  json_value_ref type_id;   // type_id, typeId, association_type_id, associationTypeId
  json_value_ref id;        // id, record_id, hs_object_id, object_id (records mode)
};

// Scans one line holding one JSON object, strictly: false unless the whole
// line is exactly one object (so `{"from":1,"to":2,}` is not), but only the
// values of the keys of json_pair_fields, matched case-insensitively when not
// escaped, are materialised (a repeated key: the last one wins); a field is
// left alone when its key is absent. UTF-8 was validated by the caller.
bool scan_json_object(std::string_view line, json_pair_fields& fields);

}  // namespace hubbatch::io
