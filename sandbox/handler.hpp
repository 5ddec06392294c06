// Request handling of the sandbox, without sockets: one parsed HTTP request
// in, one serialized HTTP response (or a decision to drop the connection)
// out. The server's sessions call it; unit tests can too.
//
// Order of checks for an API route (what a client sees first wins):
//   route (404 HTML) → method (405 HTML) → bearer token (401; no rate headers,
//   as no app is identified) → daily budget (429 DAILY) → rolling window
//   (429 TEN_SECONDLY_ROLLING) → batch routes: per-second capacity (429
//   SECONDLY, never Retry-After) → [request now counts as accepted] → injected
//   pre-apply faults (reset, 5xx, 423, 477) → object types (400) → scopes
//   (403) → body (400s) → limits (400; --max-inputs per operation) →
//   --reject-ids (400) → archive:
//   --missing error (400); create, labels/archive: association types (400);
//   read: cursors (400) → apply → post-apply faults (reset after apply,
//   garbage) → success. GET .../labels stops after the scopes and lists the
//   pair's types. batch/read's cap is --max-read-inputs, its scopes .read.
//   --fault-slow, and --capacity-delay near capacity, may delay any answer
//   after acceptance (the two add up).
// Rate-limit headers go on every answer from the 429 check on (errors too).
// create and associate/default fail single inputs (errors[] in the answer,
// the rest applied) for an unknown record (--objects) or a record at
// --max-associations-per-record; archives never fail an input for those;
// read answers errors[] items for unknown records and records with nothing
// to list. --fault-ignore makes the archives keep pairs they report removed.
//
// Single-threaded: the owner calls every member from one thread.
//
// Files: handler.cpp (routing, /_sandbox/ routes, per-handler state),
// api_stages.cpp (the API route as stages: authenticate → limit_rate →
// inject_faults → validate → apply, and archive's apply), api_writes.cpp
// (create, associate/default, labels/archive, GET labels), api_read.cpp
// (batch/read), body_decoder
// (request bodies),
// response_writer (HTTP responses, error pages, text helpers), stats.cpp
// (snapshot and the stats JSON); handler_detail.hpp is what the first two share.
#pragma once

#include "io/pair.hpp"
#include "sandbox/assoc_types.hpp"
#include "sandbox/clock.hpp"
#include "sandbox/config.hpp"
#include "sandbox/records.hpp"
#include "sandbox/stats.hpp"
#include "sandbox/store.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace hubbatch::sandbox {

struct request_in {
  std::string_view method;         // "POST"
  std::string_view target;         // "/crm/v4/...?x=y"
  std::string_view authorization;  // Authorization header value; empty when absent
  std::string* body = nullptr;     // request body; the handler may grow its capacity (simdjson padding)
  bool keep_alive = true;          // the client wants the connection kept
  bool accepts_gzip = false;       // Accept-Encoding names gzip: API bodies are sent gzip-encoded
  bool loopback = false;           // the peer is 127.0.0.0/8 or ::1
  clock_reading now;
};

// A UUIDv7 in text form, without a heap allocation.
struct correlation_id {
  char text[36];
  operator std::string_view() const noexcept { return {text, sizeof text}; }
};

// What the session does after handle().
struct response_plan {
  bool reset = false;        // drop the connection with a TCP RST and send nothing (`out` is empty)
  bool close_after = false;  // send `out`, then close the connection
  std::chrono::milliseconds delay{0};  // wait this long before sending (fault_slow + the capacity delay); the
                                       // session waits on a timer, other connections go on
  sandbox_errc outcome = sandbox_errc::ok;
};

// Reusable per-connection state (JSON parser, pair buffers).
class session_scratch {
 public:
  session_scratch();
  ~session_scratch();
  session_scratch(const session_scratch&) = delete;
  session_scratch& operator=(const session_scratch&) = delete;
  struct impl;
  impl& get() noexcept { return *impl_; }

 private:
  std::unique_ptr<impl> impl_;
};

class request_handler {
 public:
  // `store` must be seeded and finalized; it must outlive the handler.
  // Reads cfg.labels_file and cfg.objects_file: throws std::runtime_error
  // naming the file and line on a bad line.
  request_handler(const config& cfg, association_store& store, clock_reading start);
  ~request_handler();

  // Handles one request: writes the whole HTTP/1.1 response into `out`
  // (cleared first) and says what to do with it.
  response_plan handle(const request_in& in, session_scratch& scratch, std::string& out);
  // Answers a request the HTTP parser refused (bad_http, body_too_large,
  // header_too_large) with an HTML error; the connection then closes.
  response_plan protocol_error(sandbox_errc e, clock_reading now, std::string& out);

  void on_connection() noexcept { ++stats_.connections; }
  void on_tls_failure() noexcept { ++stats_.tls_failures; }
  void on_connection_refused() noexcept { ++stats_.connections_refused; }

  stats_snapshot snapshot(clock_reading now) const;
  association_store& store() noexcept { return store_; }
  const config& cfg() const noexcept { return cfg_; }

 private:
  struct bucket;
  struct token_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  struct route;
  struct api_call;  // one API request on its way through the stages (handler_detail.hpp)

  // The API route (api_stages.cpp): handle_api runs the stages in order.
  // A stage returns true when it has answered (the response is in `out`, the
  // plan in the api_call), false to pass the request on; apply always answers.
  response_plan handle_api(const request_in& in, const route& r, session_scratch& scratch, std::string& out);
  bool authenticate(api_call& c);   // 401s
  bool limit_rate(api_call& c);     // 429s; passing counts the request as accepted
  bool inject_faults(api_call& c);  // pre-apply faults: slow, reset, 5xx, 423, 477
  bool validate(api_call& c);       // 400s and 403, in the order below
  bool check_object_types(api_call& c);
  bool check_scopes(api_call& c);
  bool decode_body(api_call& c);
  bool check_limits(api_call& c);
  bool check_rejected_ids(api_call& c);
  bool check_presence(api_call& c);  // archive
  bool check_types(api_call& c);     // create, labels/archive: every type defined for the pair
  bool check_cursors(api_call& c);   // read: every `after` one the sandbox gave out
  void apply(api_call& c);           // change the store, post-apply faults, success
  void apply_archive(api_call& c);
  void apply_labels_archive(api_call& c);
  void apply_create(api_call& c);  // create and associate/default
  void apply_read(api_call& c);    // batch/read (api_read.cpp): answers too
  void read_result(api_call& c, std::uint64_t id, bool more);  // one results[] item from s.to_ids
  // Why input i of create / associate-default cannot be applied, as an
  // errors[] item appended to `errors`; false when it can.
  bool input_error(api_call& c, std::size_t i, std::string& errors);
  bool fault_after_apply(api_call& c);  // reset after apply, garbage: true when one answered
  void answer_archive(api_call& c);     // 204, or 200/207 BatchResponse (archive, labels/archive)
  void answer_create(api_call& c, std::string_view errors);
  void answer_default(api_call& c, std::string_view errors);
  void list_labels(api_call& c);  // GET .../labels
  void fill_rate_headers(api_call& c);
  // Writes the answer (gzip-encoded if the client asked) and counts its status; returns true.
  bool answer(api_call& c, int status, std::string_view type, std::string_view body, sandbox_errc outcome);
  bool answer_json_error(api_call& c, int status, sandbox_errc outcome);  // answer() with the scratch's JSON body

  response_plan handle_internal(const request_in& in, std::string_view path, std::string_view query,
                                std::string& out);
  bool draw(double p);
  correlation_id next_correlation_id();
  void count_accepted(clock_reading now);

  const config& cfg_;
  association_store& store_;
  clock_reading start_;
  stats_snapshot stats_;  // live counters (remaining_pairs filled in by snapshot())
  std::unordered_map<std::string, std::unique_ptr<bucket>, token_hash, std::equal_to<>> buckets_;
  std::unique_ptr<class daily_budget> daily_;
  std::vector<std::uint64_t> reject_ids_;  // sorted
  type_catalog types_;                     // --labels plus the built-ins
  record_set records_;                     // --objects (open: every id exists)
  std::mt19937_64 fault_rng_;              // fault draws only (seeded by fault_seed)
  std::uint64_t id_state_;                 // splitmix64 state for correlation ids
  std::uint32_t next_app_id_ = 1;
  std::int64_t expired_at_unix_ms_;        // the "expire time" reported for expired tokens
};

}  // namespace hubbatch::sandbox
