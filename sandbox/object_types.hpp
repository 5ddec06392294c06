// Object-type path parameters (docs/hubspot-api.md section 6).
//
// Accepted, case-insensitively: standard names singular or plural
// ("contacts", "Contact", "line_items"), standard object type ids ("0-1"),
// custom object type ids ("2-<n>"), fully qualified custom names
// ("p<portalId>_<name>") and short custom names ("p_<name>"). A bare custom
// base name ("vendor") and anything else is unknown: HubSpot answers 400
// "Unable to infer object type from: X".
//
// Two texts naming the same type resolve to the same `key`. The sandbox has a
// single portal, so "p123_vendor" and "p_vendor" are the same type; a custom
// "2-<n>" id stays distinct from custom names (nothing maps one to the other).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hubbatch::sandbox {

struct object_type {
  std::string key;       // canonical key: "0-1", "2-123456", "p_vendor"
  std::string singular;  // for messages: "contact", "line_item", "vendor", "2-123456"
  friend bool operator==(const object_type&, const object_type&) = default;
};

std::optional<object_type> resolve_object_type(std::string_view text);

}  // namespace hubbatch::sandbox
