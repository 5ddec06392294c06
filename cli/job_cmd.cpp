// Flag registration of `hubbatch archive`, `create` (also `restore`),
// `archive-labels`, `export` and `verify`: one registration, the shared flags
// for all and each command's own (job_kind); flags and TOML ->
// job_flags (cli/job_flags.hpp), checked, then run by cli/job_run.cpp.
#include "cli/commands.hpp"
#include "cli/config_file.hpp"
#include "cli/job_flags.hpp"
#include "io/pair_reader.hpp"

#include <CLI/CLI.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <variant>

namespace hubbatch::cli {

// "90" (seconds), "500ms", "30s", "15m", "2h".
engine::duration parse_duration(const std::string& flag, const std::string& text) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::logic_error&) {
    throw CLI::ValidationError(flag, "expected a duration like 30s, 500ms, 15m or 2h (got '" + text + "')");
  }
  std::string unit = text.substr(used);
  double scale = unit.empty() || unit == "s" ? 1 : unit == "ms" ? 0.001 : unit == "m" ? 60 : unit == "h" ? 3600 : -1;
  if (scale < 0 || !(v >= 0))
    throw CLI::ValidationError(flag, "expected a duration like 30s, 500ms, 15m or 2h (got '" + text + "')");
  if (v * scale > 1e8)  // about 3 years; beyond, the conversion to nanoseconds would overflow
    throw CLI::ValidationError(flag, "duration too long (got '" + text + "')");
  return std::chrono::duration_cast<engine::duration>(std::chrono::duration<double>(v * scale));
}

// "auto", "0", "N/Ws", "N/Wms", "P%" (share of the announced limit).
void parse_rate(const std::string& text, engine::archive_config& cfg, const std::string& flag) {
  if (text == "auto") {
    cfg.rate = engine::rate_mode::automatic;
    return;
  }
  if (text == "0") {
    cfg.rate = engine::rate_mode::unlimited;
    return;
  }
  if (!text.empty() && text.back() == '%') {
    double pct = std::stod(text.substr(0, text.size() - 1));
    if (!(pct > 0 && pct <= 100)) throw CLI::ValidationError(flag, "a share must be in (0%, 100%]");
    cfg.rate = engine::rate_mode::automatic;
    cfg.rate_share = pct / 100.0;
    return;
  }
  auto slash = text.find('/');
  if (slash == std::string::npos) throw CLI::ValidationError(flag, "expected auto, 0, N/Ws (e.g. 190/10s) or P%");
  std::size_t used = 0;
  long n = std::stol(text.substr(0, slash), &used);
  if (used != slash || n < 1) throw CLI::ValidationError(flag, "N must be a positive integer in N/Ws");
  std::string w = text.substr(slash + 1);
  double scale = 1.0;
  if (w.ends_with("ms")) {
    scale = 0.001;
    w.resize(w.size() - 2);
  } else if (w.ends_with('s')) {
    w.resize(w.size() - 1);
  }
  double window = w.empty() ? 1.0 : std::stod(w, &used) * scale;
  if (!w.empty() && used != w.size()) throw CLI::ValidationError(flag, "bad window in N/Ws");
  if (!(window > 0)) throw CLI::ValidationError(flag, "the window must be positive");
  cfg.rate = engine::rate_mode::fixed;
  cfg.rate_max = static_cast<int>(n);
  cfg.rate_window = std::chrono::duration_cast<engine::duration>(std::chrono::duration<double>(window));
}

namespace {
// The batch size in `text` for a command of `kind` (0 = auto), or the problem.
std::variant<std::size_t, std::string> read_batch_size(const std::string& text, job_kind kind) {
  const bool reads = kind == job_kind::export_records || kind == job_kind::verify_pairs;
  if (text == "auto" && !reads) return std::size_t{0};
  std::size_t used = 0;
  unsigned long n = 0;
  try {
    if (!text.empty() && text[0] >= '0' && text[0] <= '9') n = std::stoul(text, &used);
  } catch (const std::logic_error&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || n < 1 || n > 10000)
    return std::string(reads ? "expected N from 1 to 10000" : "expected auto or N from 1 to 10000") + " (got '" +
           text + "')";
  return std::size_t{n};
}
}  // namespace

void parse_batch_size(const std::string& text, engine::archive_config& cfg, job_kind kind) {
  auto v = read_batch_size(text, kind);
  if (auto* why = std::get_if<std::string>(&v)) throw CLI::ValidationError("--batch-size", *why);
  const std::size_t n = std::get<std::size_t>(v);
  cfg.batch_size_auto = n == 0;
  cfg.batch_size = n == 0 ? 100 : n;  // auto starts at the size HubSpot is known to take (docs/hubspot-api.md §2)
}

// "N/s", "N/Ws" or "N" (per second): the adaptive pacer's ceiling in
// requests per second.
double parse_max_rate(const std::string& text) {
  engine::archive_config probe;
  const bool bare = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  try {
    parse_rate(bare ? text + "/s" : text, probe, "--max-rate");
  } catch (const std::exception&) {  // CLI::ValidationError, or std::logic_error from a number
    probe.rate = engine::rate_mode::automatic;
  }
  if (probe.rate != engine::rate_mode::fixed)
    throw CLI::ValidationError("--max-rate", "expected N/s, e.g. 100/s (got '" + text + "')");
  return probe.rate_max / std::chrono::duration<double>(probe.rate_window).count();
}

void add_job_command(CLI::App& app, command_runner* run, job_kind kind) {
  auto f = std::make_shared<job_flags>();
  f->kind = kind;
  engine::archive_config& c = f->cfg;
  const bool create = kind == job_kind::create;
  const bool exporting = kind == job_kind::export_records;
  const bool verifying = kind == job_kind::verify_pairs;
  const bool reading = exporting || verifying;
  f->name = create                              ? "create"
            : kind == job_kind::archive_labels ? "archive-labels"
            : exporting                        ? "export"
            : verifying                        ? "verify"
                                               : "archive";
  const char* what =
      create ? "Create the associations listed in a file of from_id,to_id pairs (unlabelled, or with a label from "
               "--label or category,type_id columns)"
      : exporting
          ? "Write the current associations (with their labels) of each record listed in a file of ids, or in the "
            "from column of a pairs file, to a CSV or NDJSON file"
      : verifying
          ? "Read back the associations of a file of from_id,to_id pairs and report every pair still associated "
            "(still_present; exit 1), e.g. after an archive"
      : kind == job_kind::archive_labels
          ? "Remove only the labels listed (--label, or category,type_id columns) from the associations of a file "
            "of from_id,to_id pairs; the associations stay"
          : "Archive (remove) the associations listed in a file of from_id,to_id pairs, with every label";
  auto* cmd = app.add_subcommand(f->name, what);
  if (create) cmd->alias("restore");  // what a user looks for to put a backup or an export back
  add_config_option(*cmd);  // first: its callback feeds the options declared below
  cmd->add_option("--from-type", c.from_type, "Object type of the source records (contacts, 0-1, 2-123, p_name, ...)")
      ->required();
  cmd->add_option("--to-type", c.to_type, "Object type of the target records")->required();
  if (exporting) {
    c.records_input = true;
    cmd->add_option("--input", f->inputs,
                    "Input file of record ids, one a line (header optional), or of pairs (their from column); gzip is "
                    "read as it streams; repeat for several files; - reads stdin")
        ->capture_default_str();
    cmd->add_option("--input-format", f->input_format,
                    "Input format: csv, tsv or ndjson (default: from the file name, else csv)")
        ->check(CLI::IsMember({"csv", "tsv", "ndjson", "jsonl"}));
    cmd->add_option("--output", c.output_path,
                    "Write the associations here, one line per association type (- for stdout)")
        ->required();
    cmd->add_option("--format", f->format, "Output format: csv (from_id,to_id,category,type_id,label) or ndjson")
        ->check(CLI::IsMember({"csv", "ndjson", "jsonl"}));
    cmd->add_flag("--overwrite", c.output_overwrite,
                  "Replace an existing non-empty --output (without it, a new job refuses to)");
    cmd->add_option("--columns", f->columns,
                    "csv/tsv: the input's columns in order, comma-separated; id (or from/from_id) marks the record "
                    "id, other names columns to ignore (e.g. index,id)");
  } else {
    cmd->add_option("--input", f->inputs,
                    "Input file of pairs (gzip is read as it streams); repeat for several files, read in order; - "
                    "reads stdin")
        ->capture_default_str();
    cmd->add_option("--format", f->format, "Input format: csv, tsv or ndjson (default: from the file name, else csv)")
        ->check(CLI::IsMember({"csv", "tsv", "ndjson", "jsonl"}));
    cmd->add_option("--columns", f->columns,
                    "csv/tsv: the input's columns in order, comma-separated; from/from_id/fromObjectId and "
                    "to/to_id/toObjectId mark the ids, other names columns to ignore (e.g. index,from,to)");
  }
  cmd->add_option("--delimiter", f->delimiter, "csv: the column separator, one character (e.g. ';'); default ','");
  cmd->add_option("--token-env", f->token_env, "Environment variable holding the access token")
      ->capture_default_str();
  cmd->add_option("--token-file", f->token_file, "File holding the access token (overrides --token-env)");
  cmd->add_option("--base-url", c.base_url, "API base URL (https://; http:// only to loopback)")
      ->capture_default_str();
  cmd->add_option("--api-version", c.api_version, "API path version: v4, 2025-09, 2026-03 or 2026-09")
      ->capture_default_str()
      ->check(CLI::IsMember({"v4", "2025-09", "2026-03", "2026-09"}));
  cmd->add_option("--ca-file", c.ca_file, "PEM file of CAs to trust instead of the system store");
  cmd->add_option("--proxy", f->proxy,
                  "HTTP CONNECT proxy, http://[USER:PASSWORD@]HOST:PORT, or 'direct' (default: HTTPS_PROXY unless NO_PROXY names "
                  "the host)");
  cmd->add_option("--connections", c.connections, "Concurrent keep-alive TLS connections")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  if (reading) f->batch_size = "1000";  // HubSpot's cap for batch/read (documented): nothing to learn
  cmd->add_option("--batch-size", f->batch_size,
                  kind == job_kind::archive ? "Inputs (distinct from-ids) per request: auto (start at 100, grow after "
                                              "clean answers up to 2000, settle below a size the server refuses) or N"
                  : exporting ? "Records per request (HubSpot reads at most 1,000)"
                  : verifying ? "From-ids per request (HubSpot reads at most 1,000)"
                              : "Inputs (pairs) per request: auto (start at 100, grow after clean answers up to 2000, "
                                "settle below a size the server refuses) or N")
      ->capture_default_str()
      ->type_name(reading ? "UINT" : "N|auto")
      ->check(CLI::Validator(
          [kind](std::string& v) {
            auto r = read_batch_size(v, kind);
            auto* why = std::get_if<std::string>(&r);
            return why ? *why : std::string();
          },
          "", "batch size"));
  cmd->add_option("--max-pairs-per-request", c.max_pairs_per_request,
                  "Cap on pairs per request; 0 = no cap beyond --batch-size")
      ->capture_default_str();
  if (kind == job_kind::archive || verifying) {
    cmd->add_option("--group-window", c.group_window,
                    "Pairs held back to group to-ids by from-id (duplicates within it are sent once)")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{1}, std::size_t{100000000}));
    cmd->add_flag("--no-partition", [f](std::int64_t) { f->cfg.partition_input = false; },
                  "Do not pre-split a file larger than the group window by from-id (one pass, less grouping)");
  } else {
    // One pair an input: nothing to group, so a short window (duplicates
    // within it are still sent once) and never a partitioning pass; both
    // cost a create CPU and memory for nothing (bench/results/analysis-create.md).
    c.group_window = 10000;
    cmd->add_option("--group-window", c.group_window,
                    exporting ? "Records held back before sending; a record listed twice within it is read once"
                              : "Pairs held back before sending; duplicates within it are sent once")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{1}, std::size_t{100000000}));
    cmd->add_flag("--no-partition", [f](std::int64_t) { f->cfg.partition_input = false; },
                  "Accepted for archive's sake (a shared config file); this command never pre-splits its input");
  }
  cmd->add_option("--rate", f->rate,
                  "Request rate: auto (follow X-HubSpot-RateLimit-* headers), N/Ws (e.g. 190/10s), P% of the "
                  "announced limit, or 0 (unlimited)")
      ->capture_default_str();
  cmd->add_option("--max-rate", f->max_rate,
                  "With --rate auto on endpoints the 10-second window does not count: the most requests per second "
                  "the adaptive pacer may reach, N/s")
      ->capture_default_str()
      ->type_name("N|N/s");  // a config file may say max-rate = 100
  cmd->add_flag("--no-adaptive", [f](std::int64_t) { f->cfg.adaptive = false; },
                "With --rate auto: stay on the 10-second window even when the headers show it does not count these "
                "requests");
  cmd->add_option("--max-retries", c.max_retries, "Resends of one batch after 5xx, 423, 477 and transport errors")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
  cmd->add_option("--failures", c.failures_path,
                  exporting ? "Write every record not read (failed, pending) and every rejected line to this CSV "
                              "(readable as --input)"
                  : verifying ? "Write every pair still associated (still_present), not read (failed, pending) and "
                                "every rejected line to this CSV (readable as --input)"
                            : "Write every pair not done (not " + std::string(operation_of(kind).done_word()) +
                                  ") to this CSV (readable as --input)");
  cmd->add_option("--report", c.report_path, "Write the JSON report to this file");
  if (kind == job_kind::archive) {
    cmd->add_option("--backup", f->backup,
                    "Before archiving, read the listed pairs' associations (labels included) and append those that "
                    "exist to this CSV, synced; an incomplete backup archives nothing. Restore with create --input");
    cmd->add_flag("--all", f->all,
                  "The input lists records (ids, or a pairs file's from column): remove every association each "
                  "has to --to-type, as read first (kept in REPORT.all.csv, or BACKUP.all.csv; needs --report or "
                  "--backup)");
    cmd->add_flag("--verify", f->verify,
                  "After archiving, read the pairs back: any still associated fails as still_present (report, "
                  "--failures; exit 1)");
  }
  if (create || kind == job_kind::archive_labels) {
    cmd->add_option("--label", f->label,
                    create ? "Label every pair the input gives none: CATEGORY:TYPEID (e.g. USER_DEFINED:36) or a "
                             "label's name, looked up once in the portal (default: unlabelled, "
                             "batch/associate/default)"
                           : "The label to remove from every pair the input gives none: CATEGORY:TYPEID or a label's "
                             "name, looked up once in the portal");
  }
  if (kind == job_kind::archive_labels) {
    cmd->add_flag("--include-unlabeled", f->include_unlabeled,
                  "Allow removing the unlabelled type (e.g. HUBSPOT_DEFINED:279), which removes every label and "
                  "the association itself");
  }
  if (!reading) {  // an embedded sandbox is seeded with pairs, or starts empty: nothing to read
    cmd->add_flag("--sandbox", f->sandbox,
                  create ? "Run against an embedded, empty sandbox (demo, dry run)"
                         : "Run against an embedded sandbox seeded with the input's pairs (demo, dry run)");
    cmd->add_option("--sandbox-rate", f->sandbox_rate, "With --sandbox: the sandbox's rate limit (N/Ws or 0)")
        ->capture_default_str();
  }
  cmd->add_flag("--quiet", f->quiet, "Only the summary and errors on stderr");
  cmd->add_option("--journal", c.journal_path,
                  "Append-only journal of settled pairs, for --resume (default: REPORT.journal when --report is "
                  "given and the input is a file)");
  cmd->add_flag("--no-journal", f->no_journal, "Do not keep a journal");
  cmd->add_flag("--resume", c.resume, "Continue the job recorded in the journal: skip every pair already settled");
  cmd->add_flag("--restart", c.restart, "Discard an existing journal and start the job over");
  auto* retry = cmd->add_flag("--retry-failed", c.retry_failed,
                              "With --resume (the default): send again the pairs an earlier run failed for a "
                              "retryable reason (transport errors, 5xx, 408, 423, 477, retries exhausted); final "
                              "failures (other 4xx) stay failed");
  cmd->add_flag("--no-retry-failed", [f](std::int64_t) { f->cfg.retry_failed = false; },
                "With --resume: keep every pair an earlier run failed as failed (listed again in --failures)")
      ->excludes(retry);
  cmd->add_flag("--allow-empty", c.allow_empty,
                "An input with no pairs (zero bytes or a header only) exits 0 instead of 1");
  cmd->add_option("--drain-timeout", f->drain_timeout,
                  "After SIGINT/SIGTERM or another stop, wait this long for requests in flight")
      ->capture_default_str();
  cmd->add_option("--max-requests", c.max_requests,
                  "Stop after this many requests (exit 3, resumable); 0 = no cap")
      ->capture_default_str();
  cmd->add_option("--daily-reserve", c.daily_reserve,
                  "Stop (exit 3, resumable) once X-HubSpot-RateLimit-Daily-Remaining falls to N, leaving the rest "
                  "of the day's budget to other integrations; -1 = off")
      ->capture_default_str();
  cmd->add_option("--deadline", f->deadline, "Stop after running this long, e.g. 45m (exit 3, resumable)");
  cmd->add_option("--max-retry-after", f->max_retry_after,
                  "Stop (exit 3, resumable) instead of waiting when the server asks for a longer Retry-After "
                  "(e.g. 477 migration in progress)")
      ->capture_default_str();
  cmd->add_option("--throttle-timeout", f->throttle_timeout,
                  "Stop (exit 3, resumable) when every response for this long was a 429; 0 = never")
      ->capture_default_str();
  cmd->add_flag("--plan", f->plan,
                "Read and validate the input, send nothing (no token needed), print pairs, rejected lines, "
                "duplicates, distinct from-ids, requests and the estimated duration");
  cmd->add_option("--plan-rate", f->plan_rate, "With --plan: estimate at this rate, N/Ws (default: --rate, or 100/10s for auto)");
  cmd->add_option("--daily-budget", f->daily_budget, "With --plan: the portal's daily request limit, to show the share used");
  cmd->add_option("--metrics-file", f->metrics_file,
                  "Write the counters in Prometheus text format here every --progress-interval and at the end "
                  "(atomically, for node_exporter's textfile collector)");
  cmd->add_option("--progress-interval", f->progress_interval,
                  "When stderr is not a terminal: a progress line this often; also the metrics interval")
      ->capture_default_str();
  cmd->add_option("--log-format", f->log_format, "Log lines on stderr: text or json (one object a line)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--log-level", f->log_level, "trace, debug (every 429 and transport error), info, warn, error, off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  cmd->callback([f, run] {
    try {
      parse_rate(f->rate, f->cfg);
    } catch (const std::logic_error&) {  // std::stol / std::stod
      throw CLI::ValidationError("--rate", "expected auto, 0, N/Ws (e.g. 190/10s) or P% (got '" + f->rate + "')");
    }
    f->cfg.drain_timeout = parse_duration("--drain-timeout", f->drain_timeout);
    if (!f->deadline.empty()) f->cfg.deadline = parse_duration("--deadline", f->deadline);
    f->cfg.max_retry_after = parse_duration("--max-retry-after", f->max_retry_after);
    if (f->cfg.max_retry_after < std::chrono::seconds(1))
      throw CLI::ValidationError("--max-retry-after", "must be at least 1s");
    f->cfg.throttle_timeout = parse_duration("--throttle-timeout", f->throttle_timeout);
    f->cfg.input = f->inputs.empty() ? "-" : f->inputs.front();
    f->cfg.extra_inputs.assign(f->inputs.begin() + (f->inputs.empty() ? 0 : 1), f->inputs.end());
    // Columns and separator: a mistake here would read the wrong column as an id.
    // (--format is csv, tsv, ndjson or jsonl: CLI11 checked it.)
    const std::string& in_format = f->kind == job_kind::export_records ? f->input_format : f->format;
    const bool ndjson = in_format == "ndjson" || in_format == "jsonl";
    const bool csv = in_format.empty() || in_format == "csv";
    if (f->kind == job_kind::export_records && f->format != "" && f->format != "csv")
      f->cfg.output = engine::output_format::ndjson;
    if (!f->columns.empty()) {
      const bool records = f->cfg.records_input;
      if (std::string why = records ? io::parse_record_column_names(f->columns, f->cfg.columns)
                                    : io::parse_column_names(f->columns, f->cfg.columns);
          !why.empty())
        throw CLI::ValidationError("--columns", why + " (got '" + f->columns + "')");
      if (ndjson)
        throw CLI::ValidationError("--columns", "NDJSON names its ids by key; --columns is for csv and tsv");
    }
    if (!f->delimiter.empty()) {
      if (f->delimiter.size() != 1)
        throw CLI::ValidationError("--delimiter", "expected one character, e.g. ';' (for tabs use --format tsv; got '" +
                                                      f->delimiter + "')");
      if (std::string why = io::check_delimiter(f->delimiter[0]); !why.empty())
        throw CLI::ValidationError("--delimiter", why);
      if (!csv)
        throw CLI::ValidationError("--delimiter", "only csv input takes a delimiter (tsv is tab-separated)");
      f->cfg.delimiter = f->delimiter[0];
    }
    parse_batch_size(f->batch_size, f->cfg, f->kind);
    f->cfg.max_rate = parse_max_rate(f->max_rate);
    f->progress_every = parse_duration("--progress-interval", f->progress_interval);
    if (f->progress_every < std::chrono::milliseconds(100))
      throw CLI::ValidationError("--progress-interval", "must be at least 100ms");
    if (!f->plan_rate.empty()) {
      engine::archive_config probe;
      try {
        parse_rate(f->plan_rate, probe, "--plan-rate");
      } catch (const std::logic_error&) {
        throw CLI::ValidationError("--plan-rate", "expected N/Ws, e.g. 190/10s (got '" + f->plan_rate + "')");
      }
    }
    if (f->cfg.resume && f->cfg.restart) throw CLI::ValidationError("--resume", "--resume and --restart exclude each other");
    *run = [f] { return run_job_command(*f); };
  });
}

}  // namespace hubbatch::cli
