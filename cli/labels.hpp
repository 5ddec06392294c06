// The label flags of `create` and `archive-labels`: --label as
// CATEGORY:TYPEID or a name looked up in the portal, and archive-labels'
// refusal of the unlabelled type (removing it removes every label and the
// association itself, docs/hubspot-api.md §6).
#pragma once

#include <string>

#include "cli/commands.hpp"
#include "engine/config.hpp"

namespace hubbatch::cli {

// Why the label flags cannot be honoured: `message` to print, exit 2 (4
// when the portal refused the token).
struct label_problem {
  std::string message;  // "" = none
  bool auth = false;
};

// Sets cfg.label from `label` and, for archive-labels without
// `include_unlabeled`, cfg.refused_types to the portal's unlabelled types,
// with one GET of the portal's labels when --label or that check needs it.
// A problem: an unknown name or type id (with the portal's labels listed),
// the unlabelled type asked for, the labels not readable (a CATEGORY:TYPEID
// label is then used unchecked, with a warning, unless the token was refused).
label_problem resolve_labels(job_kind kind, const std::string& label, bool include_unlabeled, const std::string& token,
                             const std::string& ca_pem, engine::archive_config& cfg);

}  // namespace hubbatch::cli
