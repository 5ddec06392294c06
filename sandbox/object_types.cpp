#include "sandbox/object_types.hpp"

#include <array>
#include <cctype>

namespace hubbatch::sandbox {
namespace {

struct standard_type {
  std::string_view id;
  std::string_view singular;
  std::string_view plural;
};

// HubSpot's standard objects with their objectTypeIds.
constexpr std::array<standard_type, 28> standard_types{{
    {"0-1", "contact", "contacts"},
    {"0-2", "company", "companies"},
    {"0-3", "deal", "deals"},
    {"0-5", "ticket", "tickets"},
    {"0-7", "product", "products"},
    {"0-8", "line_item", "line_items"},
    {"0-14", "quote", "quotes"},
    {"0-18", "communication", "communications"},
    {"0-19", "feedback_submission", "feedback_submissions"},
    {"0-27", "task", "tasks"},
    {"0-46", "note", "notes"},
    {"0-47", "meeting", "meetings"},
    {"0-48", "call", "calls"},
    {"0-49", "email", "emails"},
    {"0-53", "invoice", "invoices"},
    {"0-54", "marketing_event", "marketing_events"},
    {"0-69", "subscription", "subscriptions"},
    {"0-101", "payment", "payments"},
    {"0-115", "user", "users"},
    {"0-116", "postal_mail", "postal_mail"},
    {"0-123", "order", "orders"},
    {"0-136", "lead", "leads"},
    {"0-142", "cart", "carts"},
    {"0-162", "service", "services"},
    {"0-410", "course", "courses"},
    {"0-420", "listing", "listings"},
    {"0-421", "appointment", "appointments"},
    {"0-4", "engagement", "engagements"},
}};

bool all_digits(std::string_view s) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

bool valid_custom_name(std::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  for (char c : s)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_'))
      return false;
  return true;
}

}  // namespace

std::optional<object_type> resolve_object_type(std::string_view text) {
  if (text.empty() || text.size() > 128) return std::nullopt;
  char buf[128];
  for (std::size_t i = 0; i < text.size(); ++i)
    buf[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
  std::string_view t(buf, text.size());

  for (const auto& s : standard_types)
    if (t == s.plural || t == s.singular || t == s.id) return object_type{std::string(s.id), std::string(s.singular)};

  if (t.starts_with("2-") && all_digits(t.substr(2))) return object_type{std::string(t), std::string(t)};
  if (t.starts_with("p_") && valid_custom_name(t.substr(2)))
    return object_type{std::string(t), std::string(t.substr(2))};
  if (t.size() > 1 && t[0] == 'p') {
    auto us = t.find('_');
    if (us != std::string_view::npos && all_digits(t.substr(1, us - 1)) && valid_custom_name(t.substr(us + 1)))
      return object_type{"p_" + std::string(t.substr(us + 1)), std::string(t.substr(us + 1))};
  }
  return std::nullopt;
}

}  // namespace hubbatch::sandbox
