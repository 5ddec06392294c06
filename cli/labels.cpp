#include "cli/labels.hpp"

#include "engine/labels_fetch.hpp"
#include "io/text.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

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

bool refused_token(int status) { return status == 401 || status == 403; }

}  // namespace

label_problem resolve_labels(job_kind kind, const std::string& given, bool include_unlabeled, const std::string& token,
                             const std::string& ca_pem, engine::archive_config& cfg) {
  if (kind == job_kind::archive) return {};
  // Spaces around a pasted name are not part of it.
  std::string_view trimmed = given;
  while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) trimmed.remove_prefix(1);
  while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t')) trimmed.remove_suffix(1);
  const std::string label(trimmed);
  const std::string pair = cfg.from_type + " -> " + cfg.to_type;
  std::optional<engine::labels_answer> portal;
  auto ask = [&]() -> const engine::labels_answer& {
    if (!portal) portal = engine::fetch_labels(cfg, token, ca_pem);
    return *portal;
  };
  auto unreadable = [&](const std::string& what) {
    return label_problem{what + ": cannot list the portal's labels for " + pair + ": " + ask().error,
                         refused_token(ask().status)};
  };
  if (!label.empty()) {
    if (auto t = parse_assoc_type(label)) {
      cfg.label = *t;
      // A type id the portal does not have fails every pair, each after the
      // bisection of its batch (400s name no pair): check it once first.
      const auto& a = ask();
      if (!a.error.empty()) {
        if (refused_token(a.status)) return unreadable("--label " + label);
        spdlog::warn("--label {}: not checked against the portal's labels ({})", label, a.error);
      } else if (std::none_of(a.labels.begin(), a.labels.end(), [&](const auto& l) { return l.type == *t; })) {
        return {fmt::format("--label {}: not an association type of {}; the portal's labels: {}", label, pair,
                            list(a.labels))};
      }
    } else if (label.find(':') != std::string::npos && parse_assoc_category(label.substr(0, label.find(':')))) {
      return {"--label '" + label + "': the type id must be 1-2147483647 (e.g. USER_DEFINED:36)"};
    } else {
      if (!ask().error.empty()) return unreadable("--label '" + label + "'");
      for (const auto& l : ask().labels)
        if (!l.unlabelled() && io::iequals(l.label, label)) cfg.label = l.type;
      if (cfg.label.empty())
        return {fmt::format("--label '{}': the portal has no such label for {}; its labels: {}", label, pair,
                            list(ask().labels))};
    }
  }
  if (kind != job_kind::archive_labels || include_unlabeled) return {};
  const auto& a = ask();
  if (!a.error.empty()) {
    if (refused_token(a.status)) return unreadable("archive-labels");
    return {"cannot list the portal's labels for " + pair + " to check which type is the unlabelled one (" + a.error +
            "); --include-unlabeled skips that check"};
  }
  cfg.refused_types.clear();
  for (const auto& l : a.labels)
    if (l.unlabelled()) cfg.refused_types.push_back(l.type);
  for (const auto& t : cfg.refused_types) {
    if (t == cfg.label)
      return {fmt::format(
          "--label {} is the unlabelled {} type: removing it removes every label between the records and the "
          "association itself (use hubbatch archive for that, or give --include-unlabeled if you mean it)",
          to_string(t), pair)};
  }
  return {};
}

}  // namespace hubbatch::cli
