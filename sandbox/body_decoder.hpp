// The sandbox's reader of request bodies: a batch/archive body
//   {"inputs":[{"from":{"id":"1"},"to":[{"id":"2"},...]},...]}
// a batch/create or batch/labels/archive body (one `to` and the types)
//   {"inputs":[{"from":{"id":"1"},"to":{"id":"2"},
//               "types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":279}]},...]}
// or a batch/associate/default body (one `to`, no types)
//   {"inputs":[{"from":{"id":"1"},"to":{"id":"2"}},...]}
// or a batch/read body (a record id and the cursor of the page before)
//   {"inputs":[{"id":"1"},{"id":"2","after":"CURSOR"},...]}
// into its pairs (and types), or HubSpot's 400 message for what is wrong
// with it (Jackson's wording, with line and column). Unknown members are
// skipped; "inputs": null counts as absent. Ids are strings of 1-20 digits
// fitting in 64 bits (io::parse_u64): no spaces, quotes or signs.
//
// One decoder per session, reused: the simdjson parser and the vectors keep
// their capacity, so a steady stream of requests allocates nothing here.
#pragma once

#include "io/pair.hpp"

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hubbatch::sandbox {

enum class decode_result {
  ok,
  syntax,  // not JSON: "Invalid input JSON on line L, column C: ..."
  shape,   // JSON of the wrong shape: "... Cannot deserialize ..." or a missing required property
  bad_id,  // an id that is not 1-20 digits fitting in 64 bits: "Invalid object id: '...'"
  bad_type,  // a category not one of the four, or a type id not a positive int32
};

// What a body holds (by route).
enum class body_kind {
  archive,      // BatchInputPublicAssociationMultiArchive: `to` is an array
  multi_post,   // BatchInputPublicAssociationMultiPost: one `to`, `types` required (create, labels/archive)
  default_pair, // BatchInputPublicDefaultAssociationMultiPost: one `to`, no types
  read,         // BatchInputPublicFetchAssociationsBatchRequest: `id`, optional `after` (string)
};

// One input of a batch/read body.
struct read_input {
  std::uint64_t id = 0;
  std::uint32_t after_at = 0, after_size = 0;  // the `after` text in the decoder's buffer; size 0 = none
};

class body_decoder {
 public:
  // Decodes `body`, growing its capacity by simdjson's padding if needed.
  // ok: pairs() and inputs() describe it. Otherwise `message` (overwritten)
  // holds the error message; pairs() and inputs() are unspecified.
  decode_result decode(std::string& body, body_kind kind, std::string& message);

  // The pairs, in request order (duplicates kept), without types: one per
  // `to` of an archive input, one per input otherwise.
  std::span<const pair_id> pairs() const noexcept { return buf_.pairs; }
  // Entries of inputs[].
  std::size_t inputs() const noexcept { return buf_.inputs; }
  // read: the inputs in request order, and the `after` text of one
  // (empty when absent, null or "": the first page).
  std::span<const read_input> reads() const noexcept { return buf_.reads; }
  std::string_view after_of(const read_input& r) const noexcept {
    return std::string_view(buf_.afters).substr(r.after_at, r.after_size);
  }
  // multi_post: the types of input i (= pairs()[i]), in request order.
  std::span<const assoc_type> types_of(std::size_t i) const noexcept {
    return std::span<const assoc_type>(buf_.types).subspan(buf_.type_begin[i], buf_.type_begin[i + 1] - buf_.type_begin[i]);
  }

  // What a decode works in (decode_call in the .cpp).
  struct buffers {
    simdjson::ondemand::parser parser;
    std::vector<pair_id> pairs;
    std::vector<std::uint64_t> to_ids;  // to-ids of the input being read
    std::vector<assoc_type> types;            // multi_post: every input's types, in order
    std::vector<std::uint32_t> type_begin;    // multi_post: input i's types are [type_begin[i], type_begin[i + 1])
    std::vector<read_input> reads;          // read: every input
    std::string afters;                     // read: the `after` texts, back to back
    std::size_t inputs = 0;
  };

 private:
  buffers buf_;
};

}  // namespace hubbatch::sandbox
