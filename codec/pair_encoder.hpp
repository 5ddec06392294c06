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

}  // namespace hubbatch::codec
