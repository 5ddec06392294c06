// The sandbox's reader of request bodies: a batch/archive body
//   {"inputs":[{"from":{"id":"1"},"to":[{"id":"2"},...]},...]}
// or a batch/labels/archive body
//   {"inputs":[{"from":{"id":"1"},"to":{"id":"2"},
//               "types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":279}]},...]}
// into the pairs it asks to remove, or HubSpot's 400 message for what is
// wrong with it (Jackson's wording, with line and column). Unknown members
// are skipped; "inputs": null counts as absent. Ids are strings of 1-20
// digits fitting in 64 bits (io::parse_u64): no spaces, quotes or signs.
//
// batch/labels/archive: the store holds only unlabelled associations, so an
// input yields its pair only when its types[] name a HUBSPOT_DEFINED type
// (the unlabelled type cascades to every label); it still counts in inputs().
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
#include <vector>

namespace hubbatch::sandbox {

enum class decode_result {
  ok,
  syntax,  // not JSON: "Invalid input JSON on line L, column C: ..."
  shape,   // JSON of the wrong shape: "... Cannot deserialize ..." or a missing required property
  bad_id,  // an id that is not 1-20 digits fitting in 64 bits: "Invalid object id: '...'"
};

class body_decoder {
 public:
  // Decodes `body`, growing its capacity by simdjson's padding if needed.
  // ok: pairs() and inputs() describe it. Otherwise `message` (overwritten)
  // holds the error message; pairs() and inputs() are unspecified.
  decode_result decode(std::string& body, bool labels, std::string& message);

  // Pairs to remove, in request order (duplicates kept).
  std::span<const pair_id> pairs() const noexcept { return buf_.pairs; }
  // Entries of inputs[] (labels: each names one pair, removing it or not).
  std::size_t inputs() const noexcept { return buf_.inputs; }

  // What a decode works in (decode_call in the .cpp).
  struct buffers {
    simdjson::ondemand::parser parser;
    std::vector<pair_id> pairs;
    std::vector<std::uint64_t> to_ids;  // to-ids of the input being read
    std::size_t inputs = 0;
  };

 private:
  buffers buf_;
};

}  // namespace hubbatch::sandbox
