// Configuration of the HubSpot sandbox server (`hubbatch sandbox`).
//
// One plain struct, built by cli/sandbox_cmd.cpp from flags (every field has a
// flag of the same meaning) or directly by tests and `archive --sandbox`.
// validate_config() checks it; the server takes it by const reference and
// never changes it. Defaults follow docs/hubspot-api.md ("What the sandbox
// must emulate").
#pragma once

#include "io/pair.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hubbatch::sandbox {

// One batch of seed associations for one (from, to) object-type pair: either
// a CSV file (`from_id,to_id`, header optional) or pairs given in memory.
// Both may be set; the file's pairs are added to `pairs`.
struct seed_spec {
  std::string from_type = "contacts";  // any accepted object-type form (section 6)
  std::string to_type = "companies";
  std::string file;                    // CSV path; empty = none
  std::vector<pair_id> pairs;          // in-memory pairs (tests, archive --sandbox)
};

// A generated seed (--seed-generated N[:SEED]): the pairs `gen-pairs --keyed
// --pairs N --seed SEED` writes, computed when asked for instead of read and
// stored (sandbox/generated_pairs.hpp): 100 million pairs in 25 MB.
struct generated_seed_spec {
  std::uint64_t pairs = 0;             // 0 = none
  std::uint64_t seed = 1;              // gen-pairs' default seed
  std::string from_type = "contacts";  // a single --seed-types, else contacts:companies
  std::string to_type = "companies";
};

// What archiving a pair that is not in the store does (docs/hubspot-api.md section 3).
enum class missing_mode {
  ok,       // silent success, as for present pairs (default; HubSpot's behaviour is unknown)
  error,    // 400 VALIDATION_ERROR crm.associations.INVALID_IDENTIFIER naming the ids; nothing applied
  partial,  // 2xx BatchResponse with numErrors/errors[] per missing pair; present pairs archived
};
std::optional<missing_mode> parse_missing_mode(std::string_view s);
const char* to_string(missing_mode m);

// A rolling-window rate: at most `max` accepted requests in any `window`.
// max == 0 means no limit.
struct rate_spec {
  std::uint32_t max = 190;
  std::chrono::milliseconds window{10'000};
};
// "N/Ws", "N/Wms", "N/W" (seconds), "N" (per 10 s) or "0" (off). nullopt on bad input.
std::optional<rate_spec> parse_rate(std::string_view s);
std::string to_string(const rate_spec& r);

// --capacity: "N/s", "N/1s" or "N" (per second); "0" = off. nullopt on bad input.
std::optional<std::uint32_t> parse_capacity(std::string_view s);

// Inputs per request of each write operation (--max-inputs); more get 400
// with the operation's number in HubSpot's text (docs/hubspot-api.md §2).
// 0 = no limit. batch/read has its own cap, config::max_read_inputs.
struct input_limits {
  std::uint32_t archive = 100;            // batch/archive
  std::uint32_t labels_archive = 100;     // batch/labels/archive
  std::uint32_t create = 100;             // batch/create
  std::uint32_t associate_default = 100;  // batch/associate/default
  static constexpr input_limits all(std::uint32_t n) noexcept { return {n, n, n, n}; }
  bool operator==(const input_limits&) const = default;
};
// "N" (every write operation) or "OP:N[,OP:N...]" with OP one of archive,
// labels-archive, create, default; a bare N in the list sets the operations
// it does not name, the others keep 100. Empty on success (`out` set), else
// what is wrong (unknown operation, bad number, an operation named twice).
std::string parse_input_limits(std::string_view s, input_limits& out);
// "N" when all are equal, else every operation as OP:N.
std::string to_string(const input_limits& l);

struct config {
  // --- network and TLS ---
  std::string listen_host = "127.0.0.1";  // --listen HOST:PORT host part
  std::uint16_t listen_port = 8443;       // --listen port part; 0 picks a free port
  std::string cert_file;                  // --cert PEM; empty = generate a fresh test CA + server cert
  std::string key_file;                   // --key PEM; required with cert_file
  std::string write_ca;                   // --write-ca PATH: write the CA (PEM) there; empty = don't
  std::chrono::milliseconds handshake_timeout{10'000};  // --handshake-timeout-ms: TLS handshake deadline
  std::chrono::milliseconds idle_timeout{60'000};       // --idle-timeout-ms: keep-alive wait for the next request
  std::chrono::milliseconds io_timeout{30'000};         // --io-timeout-ms: reading a started request, writing a response
  std::uint64_t max_body_bytes = 8u << 20;  // --max-body-bytes: larger bodies get 413 (8 MiB)
  std::uint32_t max_header_bytes = 16u << 10;  // --max-header-bytes: larger request heads get 431 (16 KiB)
  std::uint32_t max_header_count = 100;  // --max-header-count: requests with more header fields get 431
  std::uint32_t max_connections_per_client = 1024;  // --max-connections-per-client: open connections per peer
                                                    // address; more are closed at accept (0 = no cap)

  // --- store ---
  std::vector<seed_spec> seeds;  // --seed FILE / --seed-types FROM:TO (repeatable); none = empty store
  generated_seed_spec seed_generated;  // --seed-generated N[:SEED]: pairs computed from a seed, not stored

  // --- API behaviour ---
  int archive_status_dated = 200;  // --archive-status 200|204: success code of the dated versions (v4 is always 204)
  input_limits max_inputs;         // --max-inputs N|OP:N,...: per write operation, more inputs per request get 400
  std::uint32_t max_pairs = 0;     // --max-pairs N: more (from,to) pairs per request get 400 (0 = no limit)
  missing_mode missing = missing_mode::ok;  // --missing ok|error|partial
  int partial_status = 200;        // --partial-status 200|207: status of --missing partial responses with errors
  std::vector<std::uint64_t> reject_ids;  // --reject-ids ID,...: a request naming one of them gets 400 VALIDATION_ERROR
  std::string labels_file;   // --labels FILE: CSV category,type_id,label[,from_type,to_type] of the portal's labels
  std::string objects_file;  // --objects FILE: CSV type,id of the records that exist; empty = every id exists
  std::uint32_t max_associations_per_record = 0;  // --max-associations-per-record N: a create giving a record more
                                                  // than N associated records of the other type fails (0 = off)
  int create_status = 201;  // --create-status 201|200: v4 batch/create's all-success status (HubSpot: 200 since 2025-08)
  std::uint32_t max_read_inputs = 1000;  // --max-read-inputs N: more batch/read inputs get 400 (0 = no limit;
                                         // HubSpot's cap since 2025-02, docs/hubspot-api.md §9)
  std::uint32_t read_page_size = 500;    // --read-page-size N: associated records per record per read answer;
                                         // more give paging.next.after (HubSpot's figure is unknown)

  // --- auth ---
  std::vector<std::string> tokens;          // --token T (repeatable); empty = any non-empty bearer token
  std::vector<std::string> expired_tokens;  // --expired-token T (repeatable): 401 EXPIRED_AUTHENTICATION
  bool missing_scopes = false;              // --missing-scopes: every API call gets 403 MISSING_SCOPES
  std::uint64_t portal_id = 62515;          // --portal-id: account id in 429 groupName

  // --- rate limits ---
  rate_spec rate;                  // --rate N/Ws: rolling window per token (default 190/10s; 0 = off)
  std::uint64_t daily = 0;         // --daily N: requests per account per day (0 = no daily limit)
  int daily_utc_offset_minutes = 0;  // --daily-utc-offset-min: account time zone; the daily count resets at its midnight
  bool rate_headers = true;        // --no-rate-headers clears it: X-HubSpot-RateLimit-* on API responses
  std::uint32_t retry_after_s = 0;  // --retry-after S: Retry-After on 429s (0 = none, HubSpot's documented default)
  bool exempt_batch = false;       // --exempt-batch: the API routes do not count toward the rolling window
  // --capacity N/s: a hidden per-token capacity of the association batch routes (archive, labels/archive, create,
  // associate/default, read; v4 and dated), with or without exempt_batch: a request that would make more than N
  // accepted in the trailing 1,000 ms gets 429 SECONDLY without Retry-After (0 = no limit). Only accepted requests
  // count, as for the window.
  std::uint32_t capacity = 0;
  // --capacity-delay MS: how much later an answer comes at capacity; from 75% of it the delay grows as the square
  // of the load (capacity_delay_for in rate_window.hpp), 0 = never slower.
  std::chrono::milliseconds capacity_delay{200};

  // --- faults (each drawn per accepted API request with its probability) ---
  std::uint64_t fault_seed = 0;      // --fault-seed: RNG seed for faults; 0 = seed from the clock
  double fault_5xx = 0;              // --fault-5xx P: 500 JSON / 502 HTML / 503 empty / 504 HTML, nothing applied
  double fault_reset = 0;            // --fault-reset P: drop the connection (TCP RST) before applying
  double fault_reset_after_apply = 0;  // --fault-reset-after-apply P: apply, then drop without a response
  double fault_slow = 0;             // --fault-slow P:MS probability part: delay the response
  std::chrono::milliseconds fault_slow_delay{2'000};  // --fault-slow P:MS delay part
  double fault_garbage = 0;          // --fault-garbage P: apply, then 200 with invalid or truncated JSON
  double fault_423 = 0;              // --fault-423 P: 423 Locked, Retry-After: 2, nothing applied
  double fault_477 = 0;              // --fault-477 P[:S]: 477 Migration in Progress, nothing applied
  std::uint32_t fault_477_retry_after_s = 1;  // --fault-477 P:S Retry-After part (real waits can be ~24 h)
  double fault_ignore = 0;           // --fault-ignore P: per pair, an archive (batch/archive, labels/archive)
                                     // answers success but keeps the pair (for testing --verify)
};

// Empty when valid, else a message naming the offending field/flag.
std::string validate_config(const config& cfg);

}  // namespace hubbatch::sandbox
