// The label flags of `create` and `archive-labels`: --label as
// CATEGORY:TYPEID or a name looked up in the portal, and archive-labels'
// refusal of the unlabelled type (removing it removes every label and the
// association itself, docs/hubspot-api.md §6).
#pragma once

#include <string>

#include "cli/commands.hpp"
#include "engine/config.hpp"

namespace hubbatch::cli {

// Sets cfg.label from `label` and, for archive-labels without
// `include_unlabeled`, cfg.refused_types to the portal's unlabelled types;
// asks the portal (one GET of its labels) only when a name or that check
// needs it. Returns "" or the error to print (exit 2): an unknown name (with
// the portal's labels listed), the unlabelled type asked for, the labels
// not readable.
std::string resolve_labels(job_kind kind, const std::string& label, bool include_unlabeled, const std::string& token,
                           const std::string& ca_pem, engine::archive_config& cfg);

}  // namespace hubbatch::cli
