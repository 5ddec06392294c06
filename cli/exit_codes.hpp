// The one table from how a job ended to the process's exit code (README
// "Exit codes"): the engine reports facts (a stop reason, the counters, the
// job's totals over earlier runs); this decides.
#pragma once

#include "engine/job.hpp"

#include <string>

namespace hubbatch::cli {

struct job_exit {
  int code = 0;
  // When the exit code has a reason the engine did not stop for (an empty
  // input): the report's stop_reason and the message for stderr; else "".
  std::string reason, message;
};

// `allow_empty`: --allow-empty (an input with no pairs is not an error).
job_exit decide_exit(const engine::job_result& r, bool allow_empty);

// Fills r.context.exit_code (and stop_reason / stop_message for an empty
// input) from decide_exit(); returns the exit code.
int settle_exit(engine::job_result& r, bool allow_empty);

// A pass before the archive (--backup, --all's read) that did not cover
// every pair, so nothing was archived: its own code when it stopped (3
// pending, 4 refused, 2 configuration), else 1 (pairs failed). Call after
// settle_exit(pass).
int unfinished_pass_exit(const engine::job_result& pass);

// archive --verify: pairs the read-back found still associated make a
// finished archive exit 1; a read-back that could not finish (pending,
// refused) makes it exit 3, since nothing proves the removals yet.
// Updates r.context.exit_code; returns it.
int settle_verify_exit(engine::job_result& r, const engine::job_result& verify);

}  // namespace hubbatch::cli
