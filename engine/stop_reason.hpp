// Why a run stopped early. The dispatcher decides (engine/dispatcher.hpp);
// cli/exit_codes.hpp maps each reason to the process's exit code.
#pragma once

namespace hubbatch::engine {

// Why the run stopped early (all unsent pairs become pending).
enum class stop_reason {
  none,
  daily_limit,          // 429 DAILY: resumable after the reset
  auth,                 // 401/403: exit 4
  configuration,        // the server refused the route or object type: exit 2
  interrupted,          // SIGINT/SIGTERM
  request_budget,       // --max-requests reached
  deadline,             // --deadline passed
  daily_reserve,        // X-HubSpot-RateLimit-Daily-Remaining reached --daily-reserve
  rate_limited,         // nothing but 429s for --throttle-timeout: resumable later
  retry_after,          // the server asked to wait longer than --max-retry-after: resumable later
  tls,                  // the server's certificate failed verification: exit 2, never retried
  unreachable,          // no connection of the run ever reached the server (DNS, refused): exit 2
  local_io,             // a local write failed (journal, failures file: a full disk): resumable
  internal,             // a bug: an exception escaped a task
};
const char* to_string(stop_reason r);

}  // namespace hubbatch::engine
