#include "sandbox/records.hpp"

#include <stdexcept>

#include "io/decimal.hpp"
#include "io/files.hpp"

namespace hubbatch::sandbox {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

void record_set::add(const object_type& t, std::uint64_t id) {
  restricted_ = true;
  ids_[t.key].insert(id);
}

void record_set::load(const std::string& path) {
  const std::string text = io::read_file(path);
  restricted_ = true;  // an empty file: no record exists
  std::string_view rest = text;
  for (std::uint64_t line = 1; !rest.empty(); ++line) {
    auto nl = rest.find('\n');
    std::string_view l = trim(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (l.empty()) continue;
    auto fail = [&](const std::string& why) {
      throw std::runtime_error("objects file " + path + " line " + std::to_string(line) + ": " + why + " (" +
                               std::string(l) + ")");
    };
    auto comma = l.find(',');
    if (comma == std::string_view::npos || l.find(',', comma + 1) != std::string_view::npos) fail("expected type,id");
    auto type = resolve_object_type(trim(l.substr(0, comma)));
    std::uint64_t id = 0;
    const bool id_ok = io::parse_u64(trim(l.substr(comma + 1)), id);
    if (line == 1 && !type && !id_ok) continue;  // a header
    if (!type) fail("unknown object type '" + std::string(trim(l.substr(0, comma))) + "'");
    if (!id_ok) fail("id must be 1 to 20 digits fitting in 64 bits");
    add(*type, id);
  }
}

bool record_set::exists(const object_type& t, std::uint64_t id) const {
  if (!restricted_) return true;
  auto it = ids_.find(t.key);
  return it != ids_.end() && it->second.contains(id);
}

}  // namespace hubbatch::sandbox
