// The portal's association labels for a job's object types: one
// GET …/associations/{from}/{to}/labels before the job (create --label
// NAME, and archive-labels' check for the unlabelled type). Same base URL,
// proxy, CA and token as the job; a few attempts on 429, 5xx and transport
// errors, then an error the caller reports.
#pragma once

#include <string>
#include <vector>

#include "codec/labels.hpp"
#include "engine/config.hpp"

namespace hubbatch::engine {

struct labels_answer {
  std::vector<codec::portal_label> labels;
  std::string error;  // "" on success, else what went wrong (never the token)
  int status = 0;     // the last HTTP status (0: none)
};

// `token` and `ca_pem` as job_options has them.
labels_answer fetch_labels(const archive_config& cfg, const std::string& token, const std::string& ca_pem);

}  // namespace hubbatch::engine
