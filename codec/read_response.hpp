// Decoding of a batch/read answer (docs/hubspot-api.md §1.3, §9): 200/207
//   {"status":"COMPLETE","results":[{"from":{"id":"101"},
//     "to":[{"toObjectId":9001,"associationTypes":[{"category":"HUBSPOT_DEFINED","typeId":279,"label":null}]}],
//     "paging":{"next":{"after":"CURSOR"}}}],
//    "numErrors":1,"errors":[{"category":"OBJECT_NOT_FOUND","subCategory":"crm.associations.NO_ASSOCIATIONS_FOUND",
//     "context":{"fromObjectId":["102"]},...}],"startedAt":"…","completedAt":"…"}
// into one row per association type, the cursor of each record with more
// pages, and the errors[] items as codec/response.hpp reads them (so
// NO_ASSOCIATIONS_FOUND names its from-id in from_ids). Error envelopes
// (4xx, 429, 5xx) are codec::response_decoder's.
//
// The decoder copies what it keeps; one per connection (it owns a reusable
// simdjson parser, STYLE.md rule 11).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "codec/response.hpp"
#include "io/assoc_type.hpp"

namespace hubbatch::codec {

// One association type of one pair.
struct read_row {
  std::uint64_t from = 0;
  std::uint64_t to = 0;
  assoc_type type;    // empty when the answer gave the pair no type that decodes (the pair is still there)
  std::string label;  // "" for null or absent; printable (as codec/response.hpp), at most max_label_bytes
};

// A record with more associations than this answer holds: ask for `from`
// again with `after`.
struct read_next {
  std::uint64_t from = 0;
  std::string after;  // 1..max_cursor_bytes of printable ASCII (no space, quote or backslash);
                      // empty: the server said more follow but gave a cursor not fit to send back
};

struct decoded_read {
  body_kind kind = body_kind::empty;
  std::string status;          // "COMPLETE", ...
  std::string message;         // the top-level message, or an excerpt of a body that is not a JSON object
  std::vector<read_row> rows;  // in the answer's order
  std::vector<read_next> next;
  std::vector<error_item> errors;
  std::int64_t num_errors = 0;  // numErrors, or errors.size() when numErrors is absent or not a non-negative int64
  // Parts of results[] that could not be read and were left out: an item
  // without a decimal from id, a `to` entry without a decimal toObjectId, a
  // type with an unknown category or a type id that is not a positive
  // int32. Nonzero means the rows may not be all the server holds.
  std::uint64_t skipped = 0;

  void clear();
};

inline constexpr std::size_t max_label_bytes = 256;    // longer labels are cut (at a UTF-8 boundary)
inline constexpr std::size_t max_cursor_bytes = 1024;  // longer cursors count as unfit

class read_response_decoder {
 public:
  read_response_decoder();
  ~read_response_decoder();
  read_response_decoder(const read_response_decoder&) = delete;
  read_response_decoder& operator=(const read_response_decoder&) = delete;

  // Decodes `body` into `out` (cleared first). `body` may gain simdjson
  // padding in its capacity; its bytes stay. Never throws for bad input; a
  // body that does not parse keeps only kind and message. Memory is linear
  // in the body's size.
  void decode(std::string& body, decoded_read& out);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace hubbatch::codec
