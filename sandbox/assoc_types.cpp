#include "sandbox/assoc_types.hpp"

#include <array>
#include <stdexcept>

#include "io/files.hpp"

namespace hubbatch::sandbox {
namespace {

constexpr auto hs = assoc_category::hubspot_defined;

struct builtin {
  std::string_view from, to;  // object_type keys
  std::int32_t unlabelled;
  std::int32_t primary;  // 0: no Primary label for this direction
};

constexpr std::array<builtin, 18> builtins{{
    {"0-1", "0-2", 279, 1},
    {"0-2", "0-1", 280, 2},
    {"0-3", "0-1", 3, 0},
    {"0-1", "0-3", 4, 0},
    {"0-3", "0-2", 341, 5},
    {"0-2", "0-3", 342, 6},
    {"0-5", "0-1", 16, 0},
    {"0-1", "0-5", 15, 0},
    {"0-5", "0-2", 339, 26},
    {"0-2", "0-5", 340, 25},
    {"0-3", "0-5", 27, 0},
    {"0-5", "0-3", 28, 0},
    {"0-3", "0-8", 19, 0},
    {"0-8", "0-3", 20, 0},
    {"0-1", "0-1", 449, 0},
    {"0-2", "0-2", 450, 0},
    {"0-3", "0-3", 451, 0},
    {"0-5", "0-5", 452, 0},
}};

const builtin* find_builtin(std::string_view from, std::string_view to) {
  for (const auto& b : builtins)
    if (b.from == from && b.to == to) return &b;
  return nullptr;
}

std::uint32_t fnv1a32(std::string_view a, std::string_view b) {
  std::uint32_t h = 2166136261u;
  auto eat = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 16777619u;
    }
  };
  eat(a);
  eat("/");
  eat(b);
  return h;
}

bool applies(const label_def& d, const object_type& from, const object_type& to) {
  return d.from_key.empty() || (d.from_key == from.key && d.to_key == to.key);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

assoc_type default_type(std::string_view from_key, std::string_view to_key) {
  if (const auto* b = find_builtin(from_key, to_key)) return assoc_type{b->unlabelled, hs};
  return assoc_type{static_cast<std::int32_t>(1'000'000 + fnv1a32(from_key, to_key) % 1'000'000'000u), hs};
}

void type_catalog::load(const std::string& path) {
  const std::string text = io::read_file(path);
  std::string_view rest = text;
  for (std::uint64_t line = 1; !rest.empty(); ++line) {
    auto nl = rest.find('\n');
    std::string_view l = trim(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (l.empty()) continue;
    std::vector<std::string_view> f;
    for (std::string_view r = l;;) {
      auto comma = r.find(',');
      f.push_back(trim(r.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      r.remove_prefix(comma + 1);
    }
    auto fail = [&](const std::string& why) {
      throw std::runtime_error("labels file " + path + " line " + std::to_string(line) + ": " + why + " (" +
                               std::string(l) + ")");
    };
    auto category = parse_assoc_category(f[0]);
    if (line == 1 && !category && f.size() >= 2 && !parse_assoc_type_id(f[1])) continue;  // a header
    if (f.size() != 3 && f.size() != 5)
      fail("expected category,type_id,label[,from_type,to_type] (labels cannot hold commas)");
    if (!category) fail("category must be HUBSPOT_DEFINED, USER_DEFINED, INTEGRATOR_DEFINED or WORK");
    auto id = parse_assoc_type_id(f[1]);
    if (!id) fail("type_id must be an integer from 1 to 2147483647");
    if (f[2].empty()) fail("empty label");
    label_def d{assoc_type{*id, *category}, std::string(f[2]), {}, {}};
    if (f.size() == 5) {
      auto from = resolve_object_type(f[3]);
      auto to = resolve_object_type(f[4]);
      if (!from) fail("unknown object type '" + std::string(f[3]) + "'");
      if (!to) fail("unknown object type '" + std::string(f[4]) + "'");
      d.from_key = from->key;
      d.to_key = to->key;
    }
    labels_.push_back(std::move(d));
  }
}

bool type_catalog::defined(const object_type& from, const object_type& to, assoc_type t) const {
  if (t == default_type(from.key, to.key)) return true;
  return !label_of(from, to, t).empty();
}

std::string_view type_catalog::label_of(const object_type& from, const object_type& to, assoc_type t) const {
  if (const auto* b = find_builtin(from.key, to.key); b && b->primary && t == assoc_type{b->primary, hs})
    return "Primary";
  for (const auto& d : labels_)
    if (d.type == t && applies(d, from, to)) return d.label;
  return {};
}

std::vector<const label_def*> type_catalog::labels_for(const object_type& from, const object_type& to) const {
  // The built-in Primary labels in the same form as --labels ones.
  static const std::vector<label_def> primaries = [] {
    std::vector<label_def> v;
    for (const auto& b : builtins)
      if (b.primary) v.push_back({assoc_type{b.primary, hs}, "Primary", std::string(b.from), std::string(b.to)});
    return v;
  }();
  std::vector<const label_def*> out;
  for (const auto& d : primaries)
    if (applies(d, from, to)) out.push_back(&d);
  for (const auto& d : labels_)
    if (applies(d, from, to)) out.push_back(&d);
  return out;
}

assoc_type type_catalog::reverse(const object_type& from, const object_type& to, assoc_type t) const {
  if (t == default_type(from.key, to.key)) return default_type(to.key, from.key);
  const auto* b = find_builtin(from.key, to.key);
  const auto* r = find_builtin(to.key, from.key);
  if (b && r && b->primary && r->primary && t == assoc_type{b->primary, hs}) return assoc_type{r->primary, hs};
  return t;
}

}  // namespace hubbatch::sandbox
