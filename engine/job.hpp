// Runs one archive job: read pairs, group them, send them over
// cfg.connections keep-alive connections at the allowed rate, and settle
// every pair (docs/ARCHITECTURE.md). Beast and Asio stay in the job's .cpp
// files and engine/job_state.hpp, out of this header.
#pragma once

#include "engine/clock.hpp"
#include "engine/config.hpp"
#include "engine/counters.hpp"
#include "engine/operation.hpp"
#include "engine/stop_reason.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace hubbatch::engine {

struct job_result {
  counters totals;
  report_context context;  // context.exit_code is cli's to fill (cli/exit_codes.hpp)
  stop_reason stop = stop_reason::none;      // why the run stopped early (none: it finished)
  std::uint64_t wakeups = 0;                 // coroutines woken by a notification (tests: wake-ups per request)
  std::vector<std::string> required_scopes;  // from a 403 MISSING_SCOPES body
  std::string stop_message;                  // why the run stopped early ("" when it finished)
  std::string invariant_error;               // counters::check(); "" when the books balance
  std::vector<time_point> recent_requests;   // completions still in the rate window at the end (job_options::
                                             // prior_requests of a next job of the same token)
};

// A look at a running job, for progress displays and metrics (cli/).
struct job_progress {
  const counters& totals;              // live counters (valid only during the call)
  std::uint64_t input_bytes_read = 0;  // bytes read from the input so far (compressed bytes for gzip)
  std::uint64_t input_bytes_total = 0; // size of a regular input file; 0 = unknown (stdin, pipe)
  bool reading_done = false;           // the whole input was read: totals.input_pairs is final
  double elapsed_s = 0;                // since the job started
  double request_rate = 0;             // requests per second the pacing allows now; 0 = unpaced
  std::string_view rate_mode = "window";  // engine/pacing.hpp: window | adaptive | fixed | unpaced
  bool partitioning = false;           // the first pass over a partitioned input: pairs go to temporary
                                       // files, none is sent yet (engine/partitions.hpp)
};

struct job_options {
  const operation* op = &archive_operation();  // what each request does (engine/operation.hpp)
  std::string token;   // the access token (a secret: never logged or reported)
  std::string ca_pem;  // when non-empty, trust exactly this CA (embedded sandbox) instead of cfg.ca_file
  bool handle_signals = true;  // SIGINT/SIGTERM stop the run gracefully (a second one exits at once)
  bool quiet = false;          // no rejected-line messages on stderr
  // Called on the job's thread every progress_tick while the job runs (not
  // after it ends: the caller has the result then). Empty = no ticks.
  std::function<void(const job_progress&)> on_progress;
  // Completion times of requests an earlier job of the same token sent
  // within the rate window (job_result::recent_requests): they count
  // against this job's window from its start.
  std::vector<time_point> prior_requests;
  duration progress_tick = std::chrono::milliseconds(100);
};

// Runs the job to completion or until it must stop. Throws std::runtime_error
// only for startup failures (unreadable input, bad CA file, bad URL);
// everything after that ends as counted outcomes and a stop reason, which
// cli/exit_codes.hpp turns into the exit code.
job_result run_job(const archive_config& cfg, const job_options& opt);

}  // namespace hubbatch::engine
