// Configuration of one archive job. Built and validated in cli/ from flags
// (over a config file later), then passed by const reference (STYLE.md rule 9).
// The access token is deliberately not here: it travels separately as a
// secret and is never printed (see engine/job.hpp).
#pragma once

#include "engine/clock.hpp"
#include "io/pair_reader.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hubbatch::engine {

enum class rate_mode {
  automatic,  // --rate auto: probe, then follow X-HubSpot-RateLimit-* headers (fallback 100/10s)
  fixed,      // --rate N/Ws: exactly N requests per W seconds
  unlimited,  // --rate 0: no pacing (sandbox benchmarks)
};

// How read rows are written (engine/read_output.hpp).
enum class output_format { csv, ndjson };

struct archive_config {
  std::string from_type;                       // object type of the source records (validated by valid_object_type)
  std::string to_type;                         // object type of the target records
  std::string input = "-";                     // input path; "-" reads stdin; gzip (by magic bytes) is inflated
  std::vector<std::string> extra_inputs;       // further input files read after `input`, in order (not stdin;
                                               // no journal: its identity and line numbers cover one file)
  std::optional<io::input_format> format;      // nullopt: from the file name, else csv
  std::vector<std::string> columns;            // --columns: csv/tsv columns in order, one from and one to
  assoc_type label{};                          // --label: the type of every pair the input gives none
  std::vector<assoc_type> refused_types;       // pairs of these types are rejected (archive-labels: the
                                               // unlabelled type, unless --include-unlabeled)
                                               // (io::parse_column_names); empty = a header names them, or
                                               // lines have two columns
  char delimiter = ',';                        // --delimiter: csv column separator (tsv always uses a tab)
  std::string base_url = "https://api.hubapi.com";  // scheme://host[:port]; http:// only for loopback hosts
  std::string api_version = "v4";              // v4 | 2025-09 | 2026-03 | 2026-09
  std::string ca_file;                         // PEM to trust instead of the system store ("" = system store)
  std::string proxy;                           // http://HOST[:PORT] of an HTTP CONNECT proxy ("" = direct); cli/
                                               // fills it from --proxy or HTTPS_PROXY minus NO_PROXY
  int connections = 8;                         // concurrent keep-alive TLS connections (sessions)
  std::size_t batch_size = 100;                // inputs (distinct from-ids) per request; with batch_size_auto the first size
  bool batch_size_auto = false;                // --batch-size auto: grow after clean answers (engine/batch_sizer.hpp)
  std::size_t batch_size_ceiling = 2000;       // with batch_size_auto: the most inputs ever tried
  std::size_t max_pairs_per_request = 0;       // pairs per request; 0 = no cap beyond batch_size
  std::size_t group_window = 100000;           // pairs held back to group to-ids by from-id
  bool partition_input = true;                 // (archive) a file larger than the window is first split by from-id into
                                               // temporary files of 3/4 of a window, so every from-id's
                                               // pairs meet in one window whatever the input order
  rate_mode rate = rate_mode::automatic;       // see rate_mode
  int rate_max = 0;                            // with rate_mode::fixed: requests per window
  duration rate_window = std::chrono::seconds(10);  // with rate_mode::fixed: the window
  double rate_share = 1.0;                     // with automatic: share of the announced limit to use (0,1]
  bool adaptive = true;                        // with automatic (share 1): leave the window for the adaptive pacer
                                               // when the headers show it does not count our requests
  double max_rate = 100;                       // the adaptive pacer's ceiling, requests per second (--max-rate)
  int max_retries = 8;                         // resends of one batch after 5xx/423/477/transport errors (429s not counted)
  std::string failures_path;                   // CSV of every pair not archived ("" = none)
  std::string report_path;                     // JSON report ("" = none)
  // --- reading operations (export) ---
  bool records_input = false;                  // the input lists records (one id a line, or a pairs file's
                                               // from column), not pairs (io::parse_options::records)
  std::string output_path;                     // where read rows go ("-" = stdout; "" = nowhere)
  output_format output = output_format::csv;   // --format of export's output (engine/read_output.hpp)
  bool output_overwrite = false;               // a new job may replace a non-empty output_path (else refused)
  bool output_append = false;                  // rows always go after what output_path holds (a backup file)
  bool failures_append = false;                // failures_path is added to, not replaced (archive --verify's pass)
  std::size_t max_line_bytes = 4096;           // longer input lines are rejected
  std::size_t max_response_bytes = 4 << 20;    // larger response bodies are refused (transport error)
  duration connect_timeout = std::chrono::seconds(10);    // TCP connect, per attempt
  duration handshake_timeout = std::chrono::seconds(10);  // TLS handshake
  duration request_timeout = std::chrono::seconds(60);    // write of a request plus read of its response
  duration stdin_linger = std::chrono::milliseconds(200); // idle input this long flushes waiting pairs
  std::uint64_t seed = 0;                      // jitter RNG seed; 0 = from std::random_device

  // --- journal and stopping (README "Journals and resuming") ---
  std::string journal_path;                    // append-only journal of settled lines ("" = none; needs a file input)
  bool journal_automatic = false;              // journal_path is REPORT.journal, chosen by cli/, not by the user:
                                               // a finished job on another input in it gives way to a new job
  bool resume = false;                         // continue the job recorded in journal_path
  bool restart = false;                        // discard an existing journal and start over
  bool retry_failed = true;                    // with resume: resend pairs an earlier run failed for a retryable
                                               // reason (settled_outcome::failed_retryable); final failures stay
  bool allow_empty = false;                    // an input with no pairs (empty, header only) exits 0, not 1
  duration journal_sync_interval = std::chrono::seconds(1);  // fdatasync at most this often (grouped)
  duration drain_timeout = std::chrono::seconds(30);  // after a stop, wait this long for in-flight requests
  std::uint64_t max_requests = 0;              // stop (exit 3, resumable) after this many requests; 0 = no cap
  std::int64_t daily_reserve = -1;             // stop (exit 3, resumable) once X-HubSpot-RateLimit-Daily-Remaining
                                               // falls to this, leaving the rest for other integrations; -1 = off
  duration deadline = duration::zero();        // stop (exit 3, resumable) after running this long; 0 = none
  duration max_retry_after = std::chrono::minutes(5);   // a longer Retry-After stops the run (exit 3, resumable)
  duration throttle_timeout = std::chrono::minutes(10); // nothing but 429s this long stops the run (exit 3); 0 = never
};

// Object types allowed into a URL: names ([A-Za-z][A-Za-z0-9_]*), type ids
// (0-N, 2-N) and custom forms (pNNN_name, p_name). Anything else (slashes,
// dots, spaces, percent signs) never reaches a request line.
bool valid_object_type(const std::string& type);

// A token that can go into "Authorization: Bearer TOKEN" as it is: 1-4096
// visible ASCII bytes (0x21-0x7e). A CR or LF inside a token file would
// otherwise inject headers into every request; spaces and controls are
// never part of a HubSpot token.
bool valid_token(std::string_view token);

// Versions the client knows how to call.
bool valid_api_version(const std::string& version);

// The path every association request of a job starts with, up to the
// operation's route: /crm/v4/associations/{from}/{to}/ (dated versions
// /crm/associations/{version}/{from}/{to}/).
std::string associations_path(const std::string& api_version, const std::string& from_type,
                              const std::string& to_type);
// Request target for batch/archive, e.g. /crm/v4/associations/contacts/companies/batch/archive.
std::string archive_target(const std::string& api_version, const std::string& from_type,
                           const std::string& to_type);

// How the job reads its inputs (format aside): line limit, separator, columns.
io::parse_options input_options(const archive_config& cfg);

// Checks the whole config; returns "" when valid, else the problem.
std::string validate(const archive_config& cfg);

// A parsed base URL.
struct endpoint_url {
  bool tls = true;
  std::string host;  // without brackets for IPv6
  std::string port;  // "443" when absent
  std::string basic_credentials;  // proxies only: base64 of "user:password" for Proxy-Authorization ("" = none)
};
// Parses scheme://host[:port][/]; nullopt with `error` set on failure
// (unsupported scheme, path present, http:// to a non-loopback host).
std::optional<endpoint_url> parse_base_url(const std::string& url, std::string& error);
// `url` fit for an error message: user:password@ replaced by ***@, control
// and non-ASCII bytes escaped, cut at 200 bytes.
std::string shown_url(std::string_view url);

// Parses an HTTP proxy URL, http://[USER:PASSWORD@]HOST[:PORT][/] (port 80
// when absent); the TLS session to the API runs inside the CONNECT tunnel,
// so http:// is fine here. USER and PASSWORD may be percent-encoded; they
// become basic_credentials (sent as Proxy-Authorization: Basic on CONNECT,
// never shown in messages). nullopt with `error` set on failure.
std::optional<endpoint_url> parse_proxy_url(const std::string& url, std::string& error);

}  // namespace hubbatch::engine
