#include "engine/pair_type.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace hubbatch::engine {

std::string settle_type(pair_id& p, const operation& op, assoc_type label, std::span<const assoc_type> refused) {
  if (!op.uses_type()) {
    p.type = {};
    return {};
  }
  if (p.type.empty()) p.type = label;
  if (p.type.empty())
    return op.needs_type() ? "no association type to remove: give --label or category,type_id columns" : "";
  if (std::find(refused.begin(), refused.end(), p.type) != refused.end())
    return fmt::format(
        "{} is the unlabelled type: removing it removes every label and the association itself (hubbatch archive "
        "does that; --include-unlabeled allows it here)",
        to_string(p.type));
  return {};
}

std::string pair_line(const pair_id& p) {
  if (p.type.empty()) return fmt::format("{},{}", p.from, p.to);
  return fmt::format("{},{},{},{}", p.from, p.to, to_string(p.type.category), p.type.id);
}

}  // namespace hubbatch::engine
