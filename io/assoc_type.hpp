// An association type: HubSpot's (associationCategory, associationTypeId)
// pair, e.g. HUBSPOT_DEFINED:279 (contact to company, unlabelled) or
// USER_DEFINED:36 (a portal's own label). docs/hubspot-api.md §6 and §9.
//
// A pair carries one (io/pair.hpp); category none means "no type given":
// the default association (batch/associate/default), or archive's "every
// type". Type ids are directional and positive int32.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hubbatch {

enum class assoc_category : std::uint8_t { none = 0, hubspot_defined, user_defined, integrator_defined, work };

struct assoc_type {
  std::int32_t id = 0;
  assoc_category category = assoc_category::none;
  bool empty() const noexcept { return category == assoc_category::none; }
  friend bool operator==(const assoc_type&, const assoc_type&) = default;
  friend auto operator<=>(const assoc_type&, const assoc_type&) = default;
};

// HubSpot's spelling: "HUBSPOT_DEFINED", "USER_DEFINED", "INTEGRATOR_DEFINED", "WORK"; "" for none.
constexpr std::string_view to_string(assoc_category c) noexcept {
  switch (c) {
    case assoc_category::hubspot_defined:
      return "HUBSPOT_DEFINED";
    case assoc_category::user_defined:
      return "USER_DEFINED";
    case assoc_category::integrator_defined:
      return "INTEGRATOR_DEFINED";
    case assoc_category::work:
      return "WORK";
    case assoc_category::none:
      break;
  }
  return "";
}

// The category named exactly as HubSpot spells it (case-insensitive); nullopt otherwise.
constexpr std::optional<assoc_category> parse_assoc_category(std::string_view s) noexcept {
  auto iequal = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      char x = a[i] >= 'a' && a[i] <= 'z' ? static_cast<char>(a[i] - 32) : a[i];
      if (x != b[i]) return false;
    }
    return true;
  };
  for (auto c : {assoc_category::hubspot_defined, assoc_category::user_defined, assoc_category::integrator_defined,
                 assoc_category::work})
    if (iequal(s, to_string(c))) return c;
  return std::nullopt;
}

// A type id: 1 to 2147483647 in decimal, nothing else.
constexpr std::optional<std::int32_t> parse_assoc_type_id(std::string_view s) noexcept {
  if (s.empty() || s.size() > 10) return std::nullopt;
  std::int64_t v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + (ch - '0');
  }
  if (v < 1 || v > 2147483647) return std::nullopt;
  return static_cast<std::int32_t>(v);
}

// "HUBSPOT_DEFINED:1"; "" for no type.
inline std::string to_string(assoc_type t) {
  if (t.empty()) return {};
  return std::string(to_string(t.category)) + ":" + std::to_string(t.id);
}

// "HUBSPOT_DEFINED:1" (as --label takes it); nullopt unless both halves parse.
constexpr std::optional<assoc_type> parse_assoc_type(std::string_view s) noexcept {
  auto colon = s.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto cat = parse_assoc_category(s.substr(0, colon));
  auto id = parse_assoc_type_id(s.substr(colon + 1));
  if (!cat || !id) return std::nullopt;
  return assoc_type{*id, *cat};
}

}  // namespace hubbatch
