// The job's bookkeeping, free of sockets: which batches wait to be sent,
// which wait for a retry, and what each response means for its pairs.
//
// Sessions (engine/session.cpp) take work items, send them and hand back an
// attempt_result; the dispatcher settles every pair into exactly one of
// done / failed / pending, or queues the batch (or its halves) again. What a
// response means for one operation (archive, ...) it asks engine/operation.
// Single-threaded; unit tests drive it with a fake clock and fake results.
#pragma once

#include "codec/read_response.hpp"
#include "codec/response.hpp"
#include "engine/backoff.hpp"
#include "engine/batch_sizer.hpp"
#include "engine/clock.hpp"
#include "engine/counters.hpp"
#include "engine/operation.hpp"
#include "engine/stop_reason.hpp"
#include "io/pair.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace hubbatch::engine {

// One request's worth of pairs (pairs of one from-id contiguous).
struct work_item {
  std::vector<pair_id> pairs;
  std::vector<std::uint64_t> lines;  // input line of each pair (parallel to pairs), or empty when not tracked
  // A reading operation's cursor for each pair (parallel to pairs): the
  // record's next page; empty when every pair asks for its first page.
  std::vector<std::string> after;
  int attempt = 0;             // failed attempts so far (429s and bisection not counted)
  bool maybe_applied = false;  // an earlier attempt may have reached the server (reset after write, timeout)
  bool resend = false;         // these exact pairs were sent before (retry after 429, 5xx, transport error)
  time_point not_before{};     // do not send before this (backoff)

  // Appends pair i of `src` with its line and its cursor (this item holds
  // lines and cursors for all its pairs, or none).
  void push_from(const work_item& src, std::size_t i);
};

// What a session observed for one attempt.
struct attempt_result {
  enum class kind {
    response,         // a complete HTTP response: status, headers, body decoded
    transport_error,  // connect/TLS/write/read failure, timeout, oversized or truncated response
    tls_failure,      // the server's certificate failed verification (or no TLS 1.2): stops the run
    connect_error,    // resolve or TCP connect failed: the request never left (see options::unreachable_after)
  };
  kind what = kind::response;
  int status = 0;                                   // HTTP status (response only)
  const codec::decoded_response* body = nullptr;    // response only
  const codec::rate_limit_headers* headers = nullptr;  // response only (may be null)
  // A reading operation's 2xx answer as rows and cursors (body then holds
  // its kind and errors[]); null otherwise.
  const codec::decoded_read* read = nullptr;
  std::string_view error;                           // transport error description
  bool request_written = false;                     // transport error: the request may have reached the server
  bool too_large = false;                           // transport error: the response passed max_response_bytes
};

enum class pair_fate : std::uint8_t { done, failed, pending };  // done: archived (or created, ...)
const char* to_string(pair_fate f) noexcept;  // "done", "failed", "pending"

// How a pair ended (failures file, journal).
struct pair_outcome {
  pair_fate outcome;
  std::string_view category;  // e.g. VALIDATION_ERROR, TRANSPORT, HTTP_500; for a done pair "" or
                              // operation::done_despite()'s category ("already_absent")
  int http_status = 0;        // 0 when no response
  std::string_view message;
  // failed only: the failure may pass on another try (retries exhausted on
  // transport errors, 5xx, 408, 423, 477, bad responses), so a resumed run
  // retries it by default; false for the server's final word (4xx errors).
  bool retryable = false;
};


class dispatcher {
 public:
  // Receives every pair as it settles (archived or failed) or is left pending,
  // a run of pairs with the same outcome at a time (a whole batch when all of
  // it archived: one call per request, not per pair). `lines` holds the input
  // line of each pair, or is empty when the batch came without lines.
  using outcome_fn =
      std::function<void(std::span<const pair_id> pairs, std::span<const std::uint64_t> lines, const pair_outcome&)>;

  // A reading operation's page was accepted: `rows` are the associations of
  // `item`'s records the answer held (rows naming other records are left
  // out), called before those records settle or ask for their next page.
  using page_fn = std::function<void(std::span<const codec::read_row> rows)>;

  // A continued read item is sent once its records' last pages held this
  // many rows: their next pages are as large, and one answer must stay
  // well under the response limit.
  static constexpr std::size_t continued_row_budget = 8000;

  struct options {
    int max_retries = 8;
    backoff_policy backoff;
    std::size_t max_inputs = 100;   // the first batch size (--batch-size; see engine/batch_sizer.hpp)
    bool learn_batch_size = false;  // --batch-size auto: grow from max_inputs after clean answers
    std::size_t batch_ceiling = 2000;  // the learner never tries more inputs than this
    std::size_t max_pairs = 0;
    std::uint64_t seed = 1;
    duration rate_pause = std::chrono::seconds(1);  // pause after a 429 without Retry-After
    // A Retry-After longer than this stops the run (pairs pending, resumable)
    // instead of sleeping: a server (or a man in the middle) cannot park a
    // job for a day, and a 477 "migration in progress" is resumed by the user.
    duration max_retry_after = std::chrono::minutes(5);
    // Stop (pairs pending) once every response for this long was a 429:
    // a portal whose budget another integration eats cannot hang the job.
    // Zero: never.
    duration throttle_timeout = std::chrono::minutes(10);
    // Stop (pairs pending, exit 2) after this many connect errors while no
    // connection of the run has ever been established: a mistyped host or a
    // closed port fails at once instead of through every retry of every
    // batch. Once the server has been reached, connect errors are retried.
    // Zero: never.
    int unreachable_after = 8;
    // Stop (request_budget) once this many items were handed out to be
    // sent; zero: no cap (--max-requests).
    std::uint64_t max_requests = 0;
    // Stop (daily_reserve) once a response says X-HubSpot-RateLimit-Daily-
    // Remaining is at or below this; negative: off (--daily-reserve).
    std::int64_t daily_reserve = -1;
    // Stop (deadline) when note_time() passes it (--deadline).
    time_point deadline = time_point::max();
  };

  dispatcher(const options& opt, counters& c, outcome_fn on_outcome, const operation& op = archive_operation());

  // Where accepted pages of a reading operation go (export's file, a backup).
  void set_page_sink(page_fn f) { on_page_ = std::move(f); }

  // A new batch from the grouper, with the input line of each pair (or none).
  void add(std::vector<pair_id> pairs, std::vector<std::uint64_t> lines = {});
  // Number of items waiting to be sent now or later (not in flight).
  std::size_t queued() const noexcept { return ready_.size() + delayed_.size() + (continued_.pairs.empty() ? 0 : 1); }
  std::size_t in_flight() const noexcept { return in_flight_; }

  // The next item due at `now`, or nullopt (also when the request budget is
  // spent: the run then stops). The item counts as in flight until on_result().
  std::optional<work_item> take(time_point now);
  // Earliest time a delayed item becomes due (time_point::max() if none).
  time_point next_due() const;

  // Settles or requeues `item` after an attempt completed at `now`.
  void on_result(work_item&& item, const attempt_result& r, time_point now);

  // The one owner of the run's stop (and pause, and batch caps): every
  // stop is decided here, from responses (on_result) or from these facts.
  // After a stop every queued item, and every item given back or finished
  // later without settling, becomes pending; the first reason wins.
  void note_time(time_point now);             // --deadline
  // SIGINT/SIGTERM; true when the run was already interrupted (a second
  // signal: the caller leaves at once).
  bool note_signal(int sig);
  void note_local_failure(std::string what);  // a local write failed (a full disk): pairs pending, resumable
  void note_internal_error(std::string what);
  void stop(stop_reason why, std::string message = {});
  stop_reason stopped() const noexcept { return stop_; }
  time_point deadline() const noexcept { return opt_.deadline; }
  const std::string& stop_message() const noexcept { return stop_message_; }
  // Marks everything still queued as pending (call at the end after stop()).
  void drain_pending();

  // A session established a connection: the server is reachable, so later
  // connect errors are ordinary transport errors.
  void note_connected() noexcept { reached_ = true; }
  // After on_result(): the retry number when it queued the item for a resend
  // after a retryable failure (1 = first resend), else 0. For log lines.
  int last_retry() const noexcept { return last_retry_; }
  // After on_result(): the response was a 429 for a short window (any policy
  // but DAILY), the signal that the rate in force is too high.
  bool last_throttled() const noexcept { return last_throttled_; }

  // Set after a 429: no request should be sent before this.
  time_point rate_pause_until() const noexcept { return pause_until_; }
  // Set after a 429 DAILY or 401/403: details for the report.
  const std::vector<std::string>& required_scopes() const noexcept { return scopes_; }

  // Current batch caps (they shrink after a "batch too large" 400).
  // The inputs a batch may carry: the size known to pass (batch_sizer).
  std::size_t max_inputs() const noexcept { return sizer_.size(); }
  std::size_t max_pairs() const noexcept { return opt_.max_pairs; }
  // The pairs a batch may carry: max_pairs(), and for an operation whose
  // input is one pair (operation::groups_to_ids() false) max_inputs() too;
  // 0 = no cap.
  std::size_t pair_cap() const noexcept;
  // The caps the grouper cuts the next batch at: max_inputs() and
  // pair_cap(), or the larger size of a probe (--batch-size auto) when one
  // is due; add() sends the probe first.
  std::size_t cut_inputs() const noexcept { return sizer_.cut_size(); }
  std::size_t cut_pair_cap() const noexcept;
  const batch_sizer& sizing() const noexcept { return sizer_; }

 private:
  void requeue_now(work_item&& item, bool front);
  void retry_later(work_item&& item, time_point now, std::optional<duration> retry_after, std::string_view category,
                   int status, std::string_view message);
  void bisect(work_item&& item);
  // Requeues `item` cut to the current caps (one piece when it fits).
  void split_into(work_item&& item, bool front);
  // Settle pair i of w, or all of w (the outcome callback gets each pair's line).
  void settle_done(const work_item& w, std::size_t i, std::string_view category = {});
  void settle_done(const work_item& w);
  void settle_failed(const work_item& w, std::size_t i, std::string_view category, int status,
                     std::string_view message);
  void settle_failed(const work_item& w, std::string_view category, int status, std::string_view message,
                     bool retryable = false);
  void settle_pending(const work_item& w, std::string_view reason);
  void on_success(work_item&& item, const attempt_result& r, time_point now);
  void on_client_error(work_item&& item, const attempt_result& r, time_point now);
  // Settles the pairs errors[] items name (marking them in `settled`); true
  // when some error named no pair of the item.
  bool settle_named(const work_item& item, const codec::decoded_response& body, int status,
                    std::vector<char>& settled);
  // Pairs left by an answer whose errors[] named no pair: bisected until
  // each error is pinned to one.
  void settle_unmatched(work_item&& rest, const codec::decoded_response& body, int status);
  // A reading operation's 2xx: its rows to the page sink, then each record
  // settled, failed, or queued for its next page.
  void on_page(work_item&& item, const attempt_result& r, time_point now);
  // Queues pair i of `item` for its next page at `after` (continued_);
  // `rows`: the rows its record had in this page (the next is sized alike).
  void continue_read(const work_item& item, std::size_t i, std::string after, std::size_t rows);

  const operation& op_;
  options opt_;
  batch_sizer sizer_;
  counters& c_;
  outcome_fn on_outcome_;
  std::deque<work_item> ready_;
  std::multimap<time_point, work_item> delayed_;
  // Records whose next page is due, gathered into one item so their reads
  // fill a request; handed out when full, or when nothing else is ready and
  // no answer that could add to it is awaited (requests are what the rate
  // limit counts).
  work_item continued_;
  std::size_t continued_inputs_ = 0;  // its inputs (runs of one from-id)
  std::size_t continued_rows_ = 0;    // rows its records had in their last page
  page_fn on_page_;
  std::size_t in_flight_ = 0;
  stop_reason stop_ = stop_reason::none;
  std::string stop_message_;
  time_point pause_until_{};
  std::optional<time_point> throttled_since_;  // first 429 of the current run of 429s
  std::uint64_t throttled_count_ = 0;          // 429s in that run
  std::vector<std::string> scopes_;
  std::mt19937_64 rng_;
  int last_retry_ = 0;            // see last_retry()
  bool last_throttled_ = false;   // see last_throttled()
  std::uint64_t handed_out_ = 0;  // items take() handed out (requests sent or about to be)
  bool reached_ = false;          // some connection of the run was established
  int unreached_failures_ = 0;    // connect errors before that
};

}  // namespace hubbatch::engine
