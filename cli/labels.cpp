#include "cli/labels.hpp"

#include <fmt/format.h>

#include <optional>

#include "engine/labels_fetch.hpp"
#include "io/text.hpp"

namespace hubbatch::cli {
namespace {

std::string describe(const codec::portal_label& l) {
  return fmt::format("{} ({})", l.unlabelled() ? "unlabelled" : "'" + l.label + "'", to_string(l.type));
}

std::string list(const std::vector<codec::portal_label>& labels) {
  std::string out;
  for (const auto& l : labels) out += (out.empty() ? "" : ", ") + describe(l);
  return out.empty() ? "none" : out;
}

}  // namespace

std::string resolve_labels(job_kind kind, const std::string& label, bool include_unlabeled, const std::string& token,
                           const std::string& ca_pem, engine::archive_config& cfg) {
  if (kind == job_kind::archive) return {};
  const std::string pair = cfg.from_type + " -> " + cfg.to_type;
  std::optional<engine::labels_answer> portal;
  auto ask = [&]() -> const engine::labels_answer& {
    if (!portal) portal = engine::fetch_labels(cfg, token, ca_pem);
    return *portal;
  };
  if (!label.empty()) {
    if (auto t = parse_assoc_type(label)) {
      cfg.label = *t;
    } else if (label.find(':') != std::string::npos && parse_assoc_category(label.substr(0, label.find(':')))) {
      return "--label '" + label + "': the type id must be 1-2147483647 (e.g. USER_DEFINED:36)";
    } else {
      const auto& a = ask();
      if (!a.error.empty())
        return "--label '" + label + "': cannot list the portal's labels for " + pair + ": " + a.error;
      for (const auto& l : a.labels)
        if (!l.unlabelled() && io::iequals(l.label, label)) cfg.label = l.type;
      if (cfg.label.empty())
        return fmt::format("--label '{}': the portal has no such label for {}; its labels: {}", label, pair,
                           list(a.labels));
    }
  }
  if (kind != job_kind::archive_labels || include_unlabeled) return {};
  const auto& a = ask();
  if (!a.error.empty())
    return "cannot list the portal's labels for " + pair + " to check which type is the unlabelled one (" + a.error +
           "); --include-unlabeled skips that check";
  cfg.refused_types.clear();
  for (const auto& l : a.labels)
    if (l.unlabelled()) cfg.refused_types.push_back(l.type);
  for (const auto& t : cfg.refused_types) {
    if (t == cfg.label)
      return fmt::format(
          "--label {} is the unlabelled {} type: removing it removes every label between the records and the "
          "association itself (use hubbatch archive for that, or give --include-unlabeled if you mean it)",
          to_string(t), pair);
  }
  return {};
}

}  // namespace hubbatch::cli
