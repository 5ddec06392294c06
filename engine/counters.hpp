// The one set of counters a job keeps, and the report built from them.
//
// Every input pair ends in exactly one state:
//   input_pairs = done_pairs + failed_pairs + rejected_pairs
//               + duplicate_pairs + pending_pairs
// counters::check() verifies it before the process exits; a mismatch is a bug.
// Counters are plain integers: each worker owns one set and they are merged
// after join (STYLE.md rule 4).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace hubbatch::engine {

// Bounded uniform sample of latencies (Vitter's algorithm R) for percentiles.
class latency_reservoir {
 public:
  // Not explicit, so `counters c{};` and `counters{}` compile (aggregate init).
  latency_reservoir() : latency_reservoir(4096) {}
  explicit latency_reservoir(std::size_t capacity, std::uint64_t seed = 42);
  void add(double ms);
  // Afterwards the sample is (approximately) a uniform sample of both
  // streams together, weighted by their counts. NaN values are ignored by add().
  void merge(const latency_reservoir& other);
  std::uint64_t count() const noexcept { return count_; }
  // q in [0,1]; 0 when empty. min/max are exact (q <= 0 and q >= 1 return
  // them), the rest estimated from the sample by linear interpolation between
  // closest ranks. Sorts a copy: meant for the report, not the hot path.
  double quantile(double q) const;
  double min() const noexcept { return count_ ? min_ : 0; }
  double max() const noexcept { return count_ ? max_ : 0; }

 private:
  std::size_t capacity_;
  std::vector<double> sample_;
  std::uint64_t count_ = 0;
  double min_ = 0, max_ = 0;
  std::mt19937_64 rng_;
};

struct counters {
  // --- pairs: every input line ends in exactly one of the five states below
  std::uint64_t input_pairs = 0;      // data lines read (valid pairs + rejected lines); excludes header/blank lines
  std::uint64_t done_pairs = 0;   // a 2xx covered the pair and no errors[] item named it
  std::uint64_t failed_pairs = 0;     // given up on: non-retryable error, or retries exhausted (see errors_by_category)
  std::uint64_t rejected_pairs = 0;   // bad input lines, never sent (one per line)
  std::uint64_t duplicate_pairs = 0;  // same pair already waiting in the group window; sent once
  std::uint64_t pending_pairs = 0;    // not settled when the run stopped (daily limit, interrupt, auth stop)
  std::uint64_t resent_pairs = 0;     // subset of input_pairs: an earlier run sent them but stopped before learning the outcome
  std::uint64_t skipped_pairs = 0;    // lines an earlier run of the job settled (journal): not read again, not in input_pairs
  std::uint64_t retried_failed_pairs = 0;  // subset of input_pairs: an earlier run failed them for a retryable
                                           // reason (journal), sent again by this run (--retry-failed)
  std::uint64_t already_absent_pairs = 0;  // subset of archived: the server said the pair was not associated (idempotent archive)

  // --- requests (each HTTP request sent, retries included)
  std::uint64_t requests = 0;         // requests written to a connection
  std::uint64_t responses = 0;        // responses received (subset of requests)
  std::uint64_t retries = 0;          // requests that resend a batch (subset of requests)
  std::uint64_t rate_limited = 0;     // 429 responses (subset of responses)
  std::uint64_t transport_errors = 0; // connect/TLS/reset/timeout failures of a request
  std::uint64_t batches = 0;          // distinct batches formed by the grouper (before splits)
  std::uint64_t split_batches = 0;    // extra batches created by halving or bisection
  std::uint64_t sent_pairs = 0;       // pairs carried by all requests (retries included)
  std::uint64_t sent_inputs = 0;      // inputs carried by all requests
  std::uint64_t connections_opened = 0;  // TLS connections established

  // --- reads (export, backups, verify): what the accepted answers held
  std::uint64_t read_pages = 0;         // a record's page (one record of one answer) accepted
  std::uint64_t read_rows = 0;          // association types listed (one output row each)
  std::uint64_t read_associations = 0;  // (record, associated record) pairs listed

  std::map<int, std::uint64_t> http_status;                 // status code -> responses
  // failure category -> failed pairs (sums to failed_pairs). Categories come
  // from the server (errors[].category of 2xx bodies, HTTP_nnn, ...), so their
  // number is the server's choice: count them with add_error(), which keeps at
  // most max_error_categories keys, the last being other_category.
  std::map<std::string, std::uint64_t> errors_by_category;
  std::map<std::string, std::uint64_t> rejected_by_reason;  // reject reason -> lines (sums to rejected_pairs)

  latency_reservoir latency_ms;  // request write start to response end, ms

  static constexpr std::size_t max_error_categories = 64;
  static constexpr std::string_view other_category = "other";

  // Counts `pairs` failed pairs under `category` in errors_by_category: under
  // its own name while fewer than max_error_categories - 1 names are kept (or
  // it is one of them), else under other_category. Does not touch
  // failed_pairs (the caller counts the pairs there).
  void add_error(std::string_view category, std::uint64_t pairs);

  // Adds `other`'s counts to these (errors_by_category through add_error, so
  // a merge stays bounded too).
  void merge(const counters& other);
  // input_pairs == archived + failed + rejected + duplicate + pending, and the
  // per-category maps sum to their totals (errors_by_category = failed_pairs,
  // rejected_by_reason = rejected_pairs, http_status = responses), plus the
  // subset relations above: responses <= requests, retries <= requests,
  // rate_limited == http_status[429], sent_inputs <= sent_pairs. Empty string
  // when consistent, otherwise every mismatch described, joined by "; ".
  // (So count a response in `responses` and `http_status` together, and a 429
  // in `rate_limited` as well.)
  std::string check() const;
};

// Figures over every run of a journaled job (earlier runs from the journal
// plus this one). input = archived + failed + rejected + duplicate + pending.
struct job_totals {
  std::uint64_t runs = 0;
  std::uint64_t input_pairs = 0, done_pairs = 0, already_absent_pairs = 0, failed_pairs = 0,
                rejected_pairs = 0, duplicate_pairs = 0, pending_pairs = 0;
  std::string journal_path;
};

// The partition pass (engine/feed.cpp): a file larger than the group window
// is read once, before anything is sent, and split by from-id into
// temporary files, then read back file by file.
struct partition_summary {
  std::uint64_t inputs = 0;  // input files split this way
  std::uint64_t files = 0;   // temporary files made (over those inputs)
  std::uint64_t pairs = 0;   // pairs written to them (subset of input_pairs)
  std::uint64_t bytes = 0;   // bytes written to them (~14 a pair): the temporary disk an input takes at the end
                             // of its pass; each file's share is freed as soon as it has been read back
  double seconds = 0;        // the first pass: reading, parsing and writing the files (nothing is sent meanwhile)
  std::string dir;           // where the files were made: $TMPDIR, or /tmp
};

// Everything the report prints besides the counters.
struct report_context {
  // The operation ("archive", "create", "archive-labels") and the word for
  // its done pairs ("archived", "created"): report field <word>_pairs.
  std::string operation = "archive";
  std::string done_word = "archived";
  // A reading operation (export, verify): the report adds records,
  // failed_records, pages, associations and association_rows.
  bool reads = false;
  std::string unit = "pairs";  // what the input lists: "pairs", or "records" (export) for the summary
  // Objects the command adds (archive's backup and verify passes): key and
  // its JSON value, in order, before invariant_ok.
  std::vector<std::pair<std::string, std::string>> sections;
  std::string from_type, to_type, api_version, base_url;
  int effective_rate_max = 0;          // requests per window actually used at the end (0 = unlimited)
  double effective_rate_window_s = 0;  // that window, seconds
  std::string rate_mode = "window";    // engine/pacing.hpp: window | adaptive | fixed | unpaced (at the end)
  int rate_mode_switches = 0;          // window <-> adaptive switches during the run
  double adaptive_rate = 0;            // adaptive mode: requests per second in force at the end
  double elapsed_s = 0;
  int exit_code = 0;
  std::string stop_reason;             // "" when the run finished; "daily_limit", "interrupted", "auth", ...
  std::optional<job_totals> totals;        // with a journal: figures over all runs of the job
  std::optional<partition_summary> partition;  // an input was partitioned (the report's partition; else null)
  // csv/tsv columns named by a header or --columns: "from_id (1), to_id (3);
  // ignored: index (2)" (io::to_string(input_columns); "FILE: " before each
  // with several inputs); "" when not named.
  std::string input_columns;
  std::string input_hint;  // the parser's separator hint ("" = none)
};

// The report as JSON (pretty-printed, one object): hubbatch_version,
// operation, from_type, to_type, api_version, base_url, exit_code, stop_reason,
// input_columns and input_hint (string or null when ""), every counter under
// its field name (done_pairs as <done_word>_pairs),
// http_status / errors_by_category / rejected_by_reason as objects (string
// keys), pairs_per_request (sent_pairs / requests), elapsed_s, pairs_per_s
// (done_pairs / elapsed_s), latency_ms {count, min, p50, p95, p99, max},
// rate_limit {max (0 = unlimited), window_s}, rate_mode, rate_mode_switches,
// adaptive_rate_per_s (null unless adaptive), partition {inputs, files,
// pairs, bytes, seconds, dir} or null, invariant_ok, invariant_error
// (check()'s text or null). Reals have three decimals (null if not finite);
// ratios with a zero denominator are 0. Strings are escaped and invalid UTF-8
// becomes U+FFFD, so the output always parses.
std::string report_json(const counters& c, const report_context& ctx);
// The short human summary (fixed shape: always the same 16 lines, labels in a
// 14-column field, counts right-aligned; one item a line; then "columns" and
// "hint" when the context has them, and "job totals" with a journal). The
// failed line names the summary_error_categories categories with the most
// pairs (in name order) and "and N more (M pairs)" for the rest. The caller picks
// the stream (STYLE.md rule 10 says stdout, issue 3 says stderr).
std::string report_summary(const counters& c, const report_context& ctx);
inline constexpr std::size_t summary_error_categories = 10;

}  // namespace hubbatch::engine
