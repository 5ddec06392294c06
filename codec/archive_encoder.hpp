// Request body writer for batch/archive.
//
// Pairs arrive grouped: consecutive pairs with the same `from` form one input
// {"from":{"id":"F"},"to":[{"id":"T1"},{"id":"T2"}]}. Ids are validated
// integers, so nothing needs escaping. The writer appends into a caller-owned
// buffer and allocates only when that buffer must grow (reuse it per session).
#pragma once

#include "io/pair.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace hubbatch::codec {

// Appends {"inputs":[...]} for `pairs` to `out` (which it does not clear).
void encode_archive_body(std::span<const pair_id> pairs, std::string& out);

// Number of inputs the body for `pairs` will have (runs of equal `from`).
std::size_t count_inputs(std::span<const pair_id> pairs) noexcept;

}  // namespace hubbatch::codec
