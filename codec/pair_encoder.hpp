// Request body writer for the one-pair-per-input operations:
// batch/associate/default  {"from":{"id":"F"},"to":{"id":"T"}}
// batch/create and batch/labels/archive, the same with
//   "types":[{"associationCategory":"USER_DEFINED","associationTypeId":36}]
// (docs/hubspot-api.md §1.1 and §9). Ids are validated integers and
// categories one of four names, so nothing needs escaping.
#pragma once

#include <span>
#include <string>

#include "io/pair.hpp"

namespace hubbatch::codec {

// Appends {"inputs":[...]} for `pairs`, one input each, to `out` (which it
// does not clear); with `with_types` each input carries its pair's type.
void encode_pair_inputs(std::span<const pair_id> pairs, bool with_types, std::string& out);

// batch/read: appends {"inputs":[{"id":"F"},{"id":"G","after":"CURSOR"}]}
// for the from-ids of `pairs`, one input per run of equal from-ids; `after`
// is empty (first pages) or parallel to `pairs` ("" = first page; a run's
// first pair's cursor counts). Cursors come from codec/read_response.hpp, which
// keeps only printable ASCII without quotes or backslashes: no escaping.
void encode_read_inputs(std::span<const pair_id> pairs, std::span<const std::string> after, std::string& out);

}  // namespace hubbatch::codec
