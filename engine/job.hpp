// Runs one archive job: read pairs, group them, send them over
// cfg.connections keep-alive connections at the allowed rate, and settle
// every pair. Everything network-related stays in job.cpp (Beast and Asio
// templates are kept out of this header).
#pragma once

#include "engine/config.hpp"
#include "engine/counters.hpp"

#include <string>
#include <vector>

namespace hubbatch::engine {

struct job_result {
  counters totals;
  report_context context;
  std::vector<std::string> required_scopes;  // from a 403 MISSING_SCOPES body
  std::string stop_message;                  // why the run stopped early ("" when it finished)
  std::string invariant_error;               // counters::check(); "" when the books balance
};

struct job_options {
  std::string token;   // the access token (a secret: never logged or reported)
  std::string ca_pem;  // when non-empty, trust exactly this CA (embedded sandbox) instead of cfg.ca_file
  bool handle_signals = true;  // SIGINT/SIGTERM stop the run gracefully (a second one exits at once)
  bool quiet = false;          // no rejected-line messages on stderr
};

// Runs the job to completion or until it must stop. Throws std::runtime_error
// only for startup failures (unreadable input, bad CA file, bad URL);
// everything after that ends as counted outcomes. The exit code (README) is
// in result.context.exit_code.
job_result run_job(const archive_config& cfg, const job_options& opt);

}  // namespace hubbatch::engine
