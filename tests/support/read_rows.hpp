// Rows of a batch/read answer (codec/read_response.hpp) for the unit tests
// of what consumes them (the dispatcher's pages, export's output).
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "codec/read_response.hpp"

namespace hubbatch::test {

// contact -> company: the unlabelled default and a portal label.
inline constexpr assoc_type unlabelled_row_type{279, assoc_category::hubspot_defined};
inline constexpr assoc_type billing_row_type{36, assoc_category::user_defined};

inline codec::read_row read_row(std::uint64_t from, std::uint64_t to, assoc_type t = unlabelled_row_type,
                                std::string label = {}) {
  codec::read_row r;
  r.from = from;
  r.to = to;
  r.type = t;
  r.label = std::move(label);
  return r;
}

}  // namespace hubbatch::test
