// `hubbatch sandbox`: flags → sandbox::config → sandbox::run_sandbox.
#include "cli/commands.hpp"
#include "cli/config_file.hpp"
#include "sandbox/config.hpp"
#include "sandbox/server.hpp"

#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace hubbatch::cli {
namespace {

namespace sb = hubbatch::sandbox;

// Flag values that need parsing beyond CLI11's conversions, initialised from
// a default config so --help shows the real defaults.
struct sandbox_flags {
  sb::config cfg;
  std::string listen;
  std::vector<std::string> seed_files;
  std::vector<std::string> seed_types;
  std::string seed_generated;
  std::string missing;
  std::string rate;
  std::string max_inputs;
  std::string capacity;
  std::int64_t capacity_delay_ms;
  std::string reject_ids;
  std::string fault_slow;
  std::string fault_477;
  std::int64_t handshake_ms, idle_ms, io_ms;
  bool no_rate_headers = false;

  sandbox_flags() {
    listen = cfg.listen_host + ":" + std::to_string(cfg.listen_port);
    missing = sb::to_string(cfg.missing);
    rate = sb::to_string(cfg.rate);
    max_inputs = sb::to_string(cfg.max_inputs);
    capacity = std::to_string(cfg.capacity);
    capacity_delay_ms = cfg.capacity_delay.count();
    fault_slow = "0:" + std::to_string(cfg.fault_slow_delay.count());
    fault_477 = "0:" + std::to_string(cfg.fault_477_retry_after_s);
    handshake_ms = cfg.handshake_timeout.count();
    idle_ms = cfg.idle_timeout.count();
    io_ms = cfg.io_timeout.count();
  }
};

bool parse_u64(std::string_view s, std::uint64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

bool parse_double(const std::string& s, double& out) {
  try {
    std::size_t n = 0;
    out = std::stod(s, &n);
    return n == s.size();
  } catch (const std::exception&) {
    return false;
  }
}

// "P:N" (N optional when `n_optional`): probability and an integer.
bool parse_p_colon_n(const std::string& s, double& p, std::uint64_t& n, bool n_optional) {
  auto colon = s.find(':');
  if (colon == std::string::npos) return n_optional && parse_double(s, p);
  return parse_double(s.substr(0, colon), p) && parse_u64(std::string_view(s).substr(colon + 1), n);
}

// Turns the string flags into config fields; throws CLI::ValidationError.
void finish_config(sandbox_flags& f) {
  auto& cfg = f.cfg;
  auto fail = [](const std::string& msg) { throw CLI::ValidationError(msg); };

  auto colon = f.listen.rfind(':');
  std::uint64_t port = 0;
  if (colon == std::string::npos || !parse_u64(std::string_view(f.listen).substr(colon + 1), port) || port > 65535)
    fail("--listen: expected HOST:PORT, got '" + f.listen + "'");
  cfg.listen_host = f.listen.substr(0, colon);
  if (cfg.listen_host.size() > 2 && cfg.listen_host.front() == '[' && cfg.listen_host.back() == ']')
    cfg.listen_host = cfg.listen_host.substr(1, cfg.listen_host.size() - 2);
  cfg.listen_port = static_cast<std::uint16_t>(port);

  auto missing = sb::parse_missing_mode(f.missing);
  if (!missing) fail("--missing: expected ok, error or partial, got '" + f.missing + "'");
  cfg.missing = *missing;

  auto rate = sb::parse_rate(f.rate);
  if (!rate) fail("--rate: expected N/Ws (e.g. 190/10s) or 0, got '" + f.rate + "'");
  cfg.rate = *rate;

  if (auto err = sb::parse_input_limits(f.max_inputs, cfg.max_inputs); !err.empty())
    fail("--max-inputs: " + err + "; expected N or OP:N[,OP:N...] (e.g. archive:100,create:2000)");

  auto capacity = sb::parse_capacity(f.capacity);
  if (!capacity) fail("--capacity: expected N/s (e.g. 50/s), N (per second) or 0 (off), got '" + f.capacity + "'");
  cfg.capacity = *capacity;
  cfg.capacity_delay = std::chrono::milliseconds(f.capacity_delay_ms);

  std::string_view ids = f.reject_ids;
  while (!ids.empty()) {
    auto comma = ids.find(',');
    std::uint64_t id = 0;
    if (!parse_u64(ids.substr(0, comma), id)) fail("--reject-ids: expected ID,ID,..., got '" + f.reject_ids + "'");
    cfg.reject_ids.push_back(id);
    if (comma == std::string_view::npos) break;
    ids.remove_prefix(comma + 1);
  }

  std::uint64_t ms = static_cast<std::uint64_t>(cfg.fault_slow_delay.count());
  if (!parse_p_colon_n(f.fault_slow, cfg.fault_slow, ms, false)) fail("--fault-slow: expected P:MS, got '" + f.fault_slow + "'");
  cfg.fault_slow_delay = std::chrono::milliseconds(static_cast<std::int64_t>(ms));
  std::uint64_t s = cfg.fault_477_retry_after_s;
  if (!parse_p_colon_n(f.fault_477, cfg.fault_477, s, true) || s > 86400)
    fail("--fault-477: expected P or P:SECONDS, got '" + f.fault_477 + "'");
  cfg.fault_477_retry_after_s = static_cast<std::uint32_t>(s);

  cfg.handshake_timeout = std::chrono::milliseconds(f.handshake_ms);
  cfg.idle_timeout = std::chrono::milliseconds(f.idle_ms);
  cfg.io_timeout = std::chrono::milliseconds(f.io_ms);
  cfg.rate_headers = !f.no_rate_headers;

  // --seed / --seed-types: paired in order; a single --seed-types applies to all seeds
  // (--seed-generated's too).
  if (!f.seed_types.empty() && f.seed_files.empty() && f.seed_generated.empty())
    fail("--seed-types needs --seed or --seed-generated");
  if (f.seed_types.size() > 1 && f.seed_types.size() != f.seed_files.size())
    fail("--seed-types: give one for all seeds or one per --seed");
  auto seed_types = [&](const std::string& t, std::string& from, std::string& to) {
    auto c = t.find(':');
    if (c == std::string::npos || c == 0 || c + 1 == t.size()) fail("--seed-types: expected FROM:TO, got '" + t + "'");
    from = t.substr(0, c);
    to = t.substr(c + 1);
  };
  for (std::size_t i = 0; i < f.seed_files.size(); ++i) {
    sb::seed_spec seed;
    seed.file = f.seed_files[i];
    if (!f.seed_types.empty()) seed_types(f.seed_types[f.seed_types.size() == 1 ? 0 : i], seed.from_type, seed.to_type);
    cfg.seeds.push_back(std::move(seed));
  }
  if (!f.seed_generated.empty()) {
    auto& g = cfg.seed_generated;
    const std::string_view v = f.seed_generated;
    const auto c = v.find(':');
    if (!parse_u64(v.substr(0, c), g.pairs) || g.pairs == 0 ||
        (c != std::string_view::npos && !parse_u64(v.substr(c + 1), g.seed)))
      fail("--seed-generated: expected N or N:SEED (N > 0), got '" + f.seed_generated + "'");
    if (f.seed_types.size() > 1) fail("--seed-generated takes its object types from a single --seed-types");
    if (f.seed_types.size() == 1) seed_types(f.seed_types[0], g.from_type, g.to_type);
  }
  if (f.cfg.write_ca.size() && !f.cfg.cert_file.empty()) fail("--write-ca writes the generated CA; it cannot be used with --cert");
  if (auto err = sb::validate_config(cfg); !err.empty()) fail(err);
}

}  // namespace

void add_sandbox_command(CLI::App& app, command_runner* run) {
  auto* cmd = app.add_subcommand("sandbox",
                                 "Run a local HTTPS server that behaves like HubSpot's association batch API "
                                 "(first stdout line: 'listening on https://HOST:PORT'; SIGINT/SIGTERM stop it)");
  auto f = std::make_shared<sandbox_flags>();
  auto& c = f->cfg;
  add_config_option(*cmd);  // first: its callback feeds the options declared below

  cmd->add_option("--listen", f->listen, "Address to listen on, HOST:PORT (port 0 picks a free one)")->capture_default_str();
  cmd->add_option("--cert", c.cert_file, "Server certificate PEM (default: generate a fresh test CA and certificate)");
  cmd->add_option("--key", c.key_file, "Private key PEM for --cert");
  cmd->add_option("--write-ca", c.write_ca, "Write the generated CA certificate (PEM) to this path for clients to trust");
  cmd->add_option("--handshake-timeout-ms", f->handshake_ms, "TLS handshake deadline")->capture_default_str();
  cmd->add_option("--idle-timeout-ms", f->idle_ms, "Keep-alive idle deadline between requests")->capture_default_str();
  cmd->add_option("--io-timeout-ms", f->io_ms, "Deadline to read a started request or write a response")->capture_default_str();
  cmd->add_option("--max-body-bytes", c.max_body_bytes, "Larger request bodies get 413")->capture_default_str();
  cmd->add_option("--max-header-bytes", c.max_header_bytes, "Larger request heads get 431")->capture_default_str();
  cmd->add_option("--max-header-count", c.max_header_count, "Requests with more header fields get 431")
      ->capture_default_str();
  cmd->add_option("--max-connections-per-client", c.max_connections_per_client,
                  "Open connections allowed per client address; more are closed at accept (0 = no cap)")
      ->capture_default_str();

  cmd->add_option("--seed", f->seed_files, "CSV of from_id,to_id pairs to preload (header optional; repeatable)");
  cmd->add_option("--seed-types", f->seed_types,
                  "Object types FROM:TO of the seeds, paired with --seed in order; one applies to all, "
                  "--seed-generated included (default contacts:companies; repeatable)");
  cmd->add_option("--seed-generated", f->seed_generated,
                  "N[:SEED]: preload the N pairs 'gen-pairs --keyed --pairs N --seed SEED' writes (SEED default 1), "
                  "computed from the seed when asked for instead of stored: about 2 bits a pair (100 million in "
                  "25 MB); reads from the to-ids' side build a 16-byte-a-pair index on first use");

  cmd->add_option("--archive-status", c.archive_status_dated,
                  "Success status of the dated versions (2025-09, 2026-03, 2026-09): 200 with a BatchResponse or 204; "
                  "v4 always answers 204")
      ->capture_default_str();
  cmd->add_option("--max-inputs", f->max_inputs,
                  "Inputs per write request above this get 400 (0 = no limit): N for every operation, or "
                  "OP:N[,OP:N...] with OP archive, labels-archive, create or default (associate/default); a bare N "
                  "in the list sets the operations not named, the others keep 100 (batch/read: --max-read-inputs)")
      ->type_name("N|OP:N,...")
      ->capture_default_str();
  cmd->add_option("--max-pairs", c.max_pairs, "(from,to) pairs per request above this get 400 (0 = no limit)")->capture_default_str();
  cmd->add_option("--max-read-inputs", c.max_read_inputs,
                  "batch/read inputs per request above this get 400 (0 = no limit; HubSpot's cap is 1000)")
      ->capture_default_str();
  cmd->add_option("--read-page-size", c.read_page_size,
                  "Associated records per record in a batch/read answer; more come with paging.next.after")
      ->capture_default_str();
  cmd->add_option("--missing", f->missing,
                  "Archiving absent pairs: ok (silent success), error (400 INVALID_IDENTIFIER, nothing applied), "
                  "partial (2xx with errors[], the rest applied)")
      ->capture_default_str();
  cmd->add_option("--partial-status", c.partial_status, "Status of --missing partial answers with errors: 200 or 207")
      ->capture_default_str();
  cmd->add_option("--reject-ids", f->reject_ids, "ID,...: a request naming any of these ids gets 400 VALIDATION_ERROR");
  cmd->add_option("--labels", c.labels_file,
                  "CSV of the portal's association labels, category,type_id,label[,from_type,to_type] (header "
                  "optional; without the object types a label applies to every pair). Built in: each pair's "
                  "unlabelled type (e.g. contact->company 279, company->contact 280) and the Primary labels; other "
                  "pairs' unlabelled type is HUBSPOT_DEFINED 1000000 + FNV-1a-32(\"FROM_ID/TO_ID\") mod 1e9");
  cmd->add_option("--objects", c.objects_file,
                  "CSV type,id of the records that exist (header optional); create and associate/default fail an "
                  "input naming another id (default: every id exists)");
  cmd->add_option("--max-associations-per-record", c.max_associations_per_record,
                  "A create that would give a record more than N associated records of the other type fails that "
                  "input with ASSOCIATION_LIMIT_EXCEEDED (0 = no limit)")
      ->capture_default_str();
  cmd->add_option("--create-status", c.create_status,
                  "v4 batch/create's status when every input succeeded: 201 (the spec) or 200 (HubSpot since "
                  "2025-08); dated versions always answer 200")
      ->capture_default_str();

  cmd->add_option("--token", c.tokens, "Accepted bearer token (repeatable; default: any non-empty token)");
  cmd->add_option("--expired-token", c.expired_tokens, "Token answered with 401 EXPIRED_AUTHENTICATION (repeatable)");
  cmd->add_flag("--missing-scopes", c.missing_scopes, "Answer every API call with 403 MISSING_SCOPES");
  cmd->add_option("--portal-id", c.portal_id, "Account id used in 429 groupName")->capture_default_str();

  cmd->add_option("--rate", f->rate, "Rolling-window limit per token, N/Ws (e.g. 190/10s, 5/1s, 100/500ms); 0 = off")
      ->capture_default_str();
  cmd->add_option("--daily", c.daily, "Requests per account per day (0 = no daily limit)")->capture_default_str();
  cmd->add_option("--daily-utc-offset-min", c.daily_utc_offset_minutes,
                  "Account time zone as minutes from UTC; the daily count resets at its midnight")
      ->capture_default_str();
  cmd->add_flag("--no-rate-headers", f->no_rate_headers, "Leave out the X-HubSpot-RateLimit-* headers");
  cmd->add_option("--retry-after", c.retry_after_s, "Add Retry-After: S to 429 answers (0 = none)")->capture_default_str();
  cmd->add_flag("--exempt-batch", c.exempt_batch,
                "Do not count the association API calls toward the rolling window (the spec's ten-secondly "
                "exemption; their Remaining does not fall)");
  cmd->add_option("--capacity", f->capacity,
                  "Hidden per-token capacity of the association batch routes (archive, labels/archive, create, "
                  "associate/default, read), N/s or N; a request that would make more than N accepted in the "
                  "trailing second gets 429 SECONDLY without Retry-After (0 = off; with or without --exempt-batch)")
      ->type_name("N/s")
      ->capture_default_str();
  cmd->add_option("--capacity-delay", f->capacity_delay_ms,
                  "Milliseconds an answer is delayed at capacity: none up to 75% of --capacity in the trailing "
                  "second, then MS * ((load - 0.75) / 0.25)^2")
      ->type_name("MS")
      ->capture_default_str();

  cmd->add_option("--fault-seed", c.fault_seed, "Seed of the fault RNG (0 = from the clock)")->capture_default_str();
  cmd->add_option("--fault-5xx", c.fault_5xx, "Probability of a 500 (JSON), 502/504 (HTML) or 503 (empty); nothing applied")
      ->capture_default_str();
  cmd->add_option("--fault-reset", c.fault_reset, "Probability of dropping the connection (RST) before applying")
      ->capture_default_str();
  cmd->add_option("--fault-reset-after-apply", c.fault_reset_after_apply,
                  "Probability of applying the archive, then dropping the connection without an answer")
      ->capture_default_str();
  cmd->add_option("--fault-slow", f->fault_slow, "P:MS: probability of delaying the answer by MS milliseconds")
      ->capture_default_str();
  cmd->add_option("--fault-garbage", c.fault_garbage,
                  "Probability of applying, then answering 200 with an invalid or truncated JSON body")
      ->capture_default_str();
  cmd->add_option("--fault-423", c.fault_423, "Probability of 423 Locked with Retry-After: 2; nothing applied")
      ->capture_default_str();
  cmd->add_option("--fault-477", f->fault_477, "P[:S]: probability of 477 Migration in Progress with Retry-After: S")
      ->capture_default_str();
  cmd->add_option("--fault-ignore", c.fault_ignore,
                  "Per pair, probability that batch/archive or labels/archive answers success but keeps the pair "
                  "(for testing read-back checks)")
      ->capture_default_str();

  cmd->callback([run, f] {
    finish_config(*f);
    *run = [f] {
      return sb::run_sandbox(f->cfg, [](const std::string& url) {
        std::printf("listening on %s\n", url.c_str());
        std::fflush(stdout);
      });
    };
  });
}

}  // namespace hubbatch::cli
