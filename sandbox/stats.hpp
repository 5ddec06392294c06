// Outcome codes and counters of the sandbox server.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace hubbatch::sandbox {

// The sandbox layer's one error enum: why a request did not simply succeed
// (protocol errors, the API's error answers, injected faults). to_string()
// gives a message per value.
enum class sandbox_errc {
  ok = 0,
  unknown_route,        // 404 HTML (also /_sandbox/ from a non-loopback peer)
  method_not_allowed,   // 405 HTML
  bad_http,             // 400: unparseable HTTP request; connection closed
  body_too_large,       // 413: body over max_body_bytes; connection closed
  header_too_large,     // 431: request head over max_header_bytes or max_header_count fields; connection closed
  unknown_object_type,  // 400 "Unable to infer object type from: X"
  missing_token,        // 401 INVALID_AUTHENTICATION, no bearer token
  invalid_token,        // 401 INVALID_AUTHENTICATION, token not accepted
  expired_token,        // 401 EXPIRED_AUTHENTICATION
  missing_scopes,       // 403 MISSING_SCOPES
  rate_limited,         // 429 TEN_SECONDLY_ROLLING
  daily_limited,        // 429 DAILY
  secondly_limited,     // 429 SECONDLY: over --capacity (no Retry-After)
  body_missing,         // 400 "Invalid JSON input: a request body was expected, but none found"
  bad_json,             // 400 "Invalid input JSON on line L, column C: ..." (syntax)
  bad_shape,            // 400 "Invalid input JSON ...: Cannot deserialize ..." (wrong types, missing fields)
  bad_id,               // 400 VALIDATION_ERROR: an id that is not 1-20 digits
  too_many_inputs,      // 400 VALIDATION_ERROR: more than max_inputs inputs or max_pairs pairs
  rejected_id,          // 400 VALIDATION_ERROR: --reject-ids
  missing_pairs,        // 400 VALIDATION_ERROR (--missing error) or 2xx with errors[] (--missing partial)
  bad_type,             // 400 VALIDATION_ERROR INVALID_ASSOCIATION_TYPE: malformed or not defined for the pair
  bad_cursor,           // 400 VALIDATION_ERROR: a batch/read `after` the sandbox did not give out
  input_errors,         // 2xx with errors[]: create / associate-default inputs naming unknown records or over the
                        // limit; read inputs with no associations or naming unknown records
  fault_5xx,            // injected 500/502/503/504
  fault_423,            // injected 423 Locked
  fault_477,            // injected 477 Migration in Progress
  fault_reset,          // injected connection reset before applying
  fault_reset_after_apply,  // injected connection reset after applying
  fault_garbage,        // injected 200 with an invalid or truncated body (applied)
};
const char* to_string(sandbox_errc e);

// Injected faults by kind. The kinds are exclusive except `slow`, which may
// delay any answered request.
struct fault_counts {
  std::uint64_t http_5xx = 0;           // 500/502/503/504 (nothing applied)
  std::uint64_t locked_423 = 0;         // 423 (nothing applied)
  std::uint64_t migration_477 = 0;      // 477 (nothing applied)
  std::uint64_t reset = 0;              // dropped before applying
  std::uint64_t reset_after_apply = 0;  // dropped after applying
  std::uint64_t garbage = 0;            // 200 with a bad body after applying
  std::uint64_t slow = 0;               // responses delayed by fault_slow_delay
  std::uint64_t total() const noexcept {
    return http_5xx + locked_423 + migration_477 + reset + reset_after_apply + garbage + slow;
  }
};

// A copy of the server's counters (GET /_sandbox/stats serves the same).
// Requests to /_sandbox/ itself are not counted anywhere.
struct stats_snapshot {
  std::uint64_t requests = 0;          // HTTP requests received (complete heads), any route
  std::map<int, std::uint64_t> by_status;  // responses sent, by status; sum = requests - resets - protocol drops
  std::uint64_t accepted = 0;          // requests past auth and rate limits (counted toward the window/daily)
  std::uint64_t archived_pairs = 0;    // associations removed from the store (a same-type pair may remove 2)
  std::uint64_t applied_request_pairs = 0;  // pairs carried by requests that were applied (each send counts: resends show here)
  std::uint64_t missing_pairs = 0;     // requested pairs that were not in the store (any --missing mode)
  std::uint64_t created_pairs = 0;     // associations created (create, associate/default); not ones already there
  std::uint64_t labels_created = 0;    // labelled types added by create (to new or existing associations)
  std::uint64_t labels_archived = 0;   // labelled types removed by labels/archive from associations that stay
                                       // (removing the default counts in archived_pairs)
  std::uint64_t failed_inputs = 0;     // create / associate-default inputs answered in errors[]
  std::uint64_t read_requests = 0;     // batch/read requests answered with results (not 4xx, 5xx or faults)
  std::uint64_t read_records = 0;      // inputs of those answered in results[] (the rest are in errors[])
  std::uint64_t ignored_pairs = 0;     // pairs an archive answered as removed but kept (--fault-ignore)
  std::uint64_t remaining_pairs = 0;   // associations still in the store
  std::uint64_t rate_limited = 0;      // 429 answers, every policy (= by_status[429])
  std::uint64_t rate_limited_daily = 0;  // subset of rate_limited with policy DAILY
  std::uint64_t rate_limited_secondly = 0;   // subset of rate_limited with policy SECONDLY (--capacity)
  std::uint64_t max_requests_in_window = 0;  // most accepted requests of one token in any rolling window
  std::uint64_t max_requests_in_second = 0;  // most accepted batch-route requests of one token in any 1 s (the
                                             // --capacity counter; measured without --capacity too)
  fault_counts faults;                 // injected faults by kind
  std::uint64_t connections = 0;       // TCP connections accepted
  std::uint64_t tls_failures = 0;      // connections whose TLS handshake failed or timed out
  std::uint64_t connections_refused = 0;  // connections closed at accept: the peer had max_connections_per_client open
  std::vector<std::uint64_t> requests_per_second;  // accepted requests in each second since start

  // The JSON served at /_sandbox/stats.
  std::string to_json() const;
};

}  // namespace hubbatch::sandbox
