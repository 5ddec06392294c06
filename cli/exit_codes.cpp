#include "cli/exit_codes.hpp"

#include "cli/commands.hpp"

namespace hubbatch::cli {
namespace {

// What each stop means for the exit code; `pending` stops exit 3 when they
// left pairs pending (they are resumable), else the counters decide.
enum class stop_kind { finished, pending, usage, auth };

stop_kind kind_of(engine::stop_reason s) {
  using engine::stop_reason;
  switch (s) {
    case stop_reason::none: return stop_kind::finished;
    case stop_reason::auth: return stop_kind::auth;
    case stop_reason::configuration:
    case stop_reason::tls:
    case stop_reason::unreachable: return stop_kind::usage;
    case stop_reason::daily_limit:
    case stop_reason::interrupted:
    case stop_reason::request_budget:
    case stop_reason::deadline:
    case stop_reason::daily_reserve:
    case stop_reason::rate_limited:
    case stop_reason::retry_after:
    case stop_reason::local_io:
    case stop_reason::internal: return stop_kind::pending;
  }
  return stop_kind::pending;
}

}  // namespace

job_exit decide_exit(const engine::job_result& r, bool allow_empty) {
  const auto& c = r.totals;
  switch (kind_of(r.stop)) {
    case stop_kind::auth: return {exit_auth, {}, {}};
    case stop_kind::usage: return {exit_usage, {}, {}};
    case stop_kind::pending:
    case stop_kind::finished: break;
  }
  if (c.pending_pairs > 0) return {exit_pending, {}, {}};
  // The exit code speaks for the whole job: failures of earlier runs count.
  const auto& t = r.context.totals;
  if (c.failed_pairs > 0 || c.rejected_pairs > 0 || (t && (t->failed_pairs > 0 || t->rejected_pairs > 0)))
    return {exit_partial, {}, {}};
  // A zero-byte or header-only input is almost always a failed upstream
  // export (a resumed job's input has pairs, all skipped: not empty).
  if (r.stop == engine::stop_reason::none && c.input_pairs == 0 && c.skipped_pairs == 0 && !allow_empty)
    return {exit_partial, "empty_input",
            "the input holds no pairs (empty, or a header only): usually an upstream export that failed; "
            "--allow-empty accepts it"};
  return {exit_ok, {}, {}};
}

int settle_exit(engine::job_result& r, bool allow_empty) {
  job_exit e = decide_exit(r, allow_empty);
  r.context.exit_code = e.code;
  if (!e.reason.empty()) {
    r.context.stop_reason = e.reason;
    r.stop_message = e.message;
  }
  return e.code;
}

int unfinished_pass_exit(const engine::job_result& pass) {
  return pass.context.exit_code != exit_ok ? pass.context.exit_code : exit_partial;
}

int settle_verify_exit(engine::job_result& r, const engine::job_result& verify) {
  int& code = r.context.exit_code;
  const auto& v = verify.totals;
  if (code != exit_ok && code != exit_partial) return code;  // the archive's own stop speaks first
  if (verify.stop != engine::stop_reason::none || v.pending_pairs > 0) code = exit_pending;
  else if (v.failed_pairs > 0) code = exit_partial;  // still_present, or a pair that could not be read
  return code;
}

}  // namespace hubbatch::cli
