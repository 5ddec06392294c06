// The answer of GET /crm/v4/associations/{from}/{to}/labels
// (docs/hubspot-api.md §9): {"results":[{"category","typeId","label"}]},
// label null (or absent) for the unlabelled type.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "io/assoc_type.hpp"

namespace hubbatch::codec {

struct portal_label {
  assoc_type type;
  std::string label;  // "" for the unlabelled type; printable (control bytes as '?')
  bool unlabelled() const noexcept { return label.empty(); }
};

// The labels in `body`, in the server's order; nullopt (and `error` set)
// when it is not that shape. Items with an unknown category or a type id
// that is not a positive int32 are skipped.
std::optional<std::vector<portal_label>> decode_labels(const std::string& body, std::string& error);

}  // namespace hubbatch::codec
