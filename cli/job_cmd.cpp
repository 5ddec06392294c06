// `hubbatch archive`, `create`, `archive-labels` and `export`: flags -> archive_config,
// token from env or file, labels resolved (cli/labels.cpp), run the job with
// the command's operation (optionally against an embedded sandbox), print
// and write the report. The commands share every flag that applies.
#include "cli/commands.hpp"
#include "cli/config_file.hpp"
#include "cli/exit_codes.hpp"
#include "cli/job_passes.hpp"
#include "cli/labels.hpp"
#include "cli/logging.hpp"
#include "cli/plan.hpp"
#include "cli/progress.hpp"
#include "cli/sandbox_embed.hpp"
#include "engine/config.hpp"
#include "engine/job.hpp"
#include "io/files.hpp"
#include "io/pair_reader.hpp"
#include "io/same_file.hpp"
#include "io/secret.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hubbatch::cli {
namespace {

struct archive_flags {
  job_kind kind = job_kind::archive;
  std::string name = "archive";  // the subcommand
  engine::archive_config cfg;
  std::string label;               // --label CATEGORY:TYPEID or NAME ("" = none)
  bool include_unlabeled = false;  // archive-labels: the unlabelled type may be removed
  std::string backup;              // archive --backup FILE ("" = none)
  bool verify = false;             // archive --verify
  bool all = false;                // archive --all: the input lists records; remove all they have
  std::vector<std::string> inputs{"-"};  // --input (repeatable): cfg.input, then cfg.extra_inputs
  std::string format;      // "" = from the file name (export: the output's format, csv or ndjson)
  std::string input_format;  // export: --input-format ("" = from the file name)
  std::string columns;     // --columns NAMES: "" = not named (parsed into cfg.columns)
  std::string delimiter;   // --delimiter CHAR: "" = a comma (checked into cfg.delimiter)
  std::string rate = "auto";
  std::string token_env = "HUBSPOT_ACCESS_TOKEN";
  std::string token_file;
  bool sandbox = false;
  bool quiet = false;
  std::string sandbox_rate = "190/10s";
  bool no_journal = false;
  std::string drain_timeout = "30s";
  std::string deadline;
  std::string max_retry_after = "5m";
  std::string throttle_timeout = "10m";
  // Operating (README "Operating hubbatch").
  std::string proxy;                 // --proxy URL | direct; "" = HTTPS_PROXY / NO_PROXY from the environment
  bool plan = false;                 // --plan: read and validate, send nothing, print the plan
  std::string plan_rate;             // --plan-rate N/Ws: the rate to plan with when --rate is auto
  std::uint64_t daily_budget = 0;    // --daily-budget N: requests per day, for the plan's share
  std::string metrics_file;          // --metrics-file PATH: Prometheus text, every interval and at the end
  std::string progress_interval = "10s";  // plain progress lines and metrics writes
  std::string log_format = "text";   // text | json
  std::string log_level = "info";    // trace | debug | info | warn | error | off
  engine::duration progress_every = std::chrono::seconds(10);  // parsed progress_interval
};

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
void parse_rate(const std::string& text, engine::archive_config& cfg, const std::string& flag = "--rate") {
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

// One copy, no temporaries: a token passes through here.
std::string trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return std::string(s);
}

std::string env_or(const char* upper, const char* lower) {
  const char* v = std::getenv(upper);
  if (!v || !*v) v = std::getenv(lower);
  return v ? v : "";
}

// HTTPS_PROXY (or https_proxy) for an https:// API, unless NO_PROXY (or
// no_proxy) names the host: "*", the host itself, or a domain it is in
// (".example.com" and "example.com" both cover api.example.com). Loopback
// hosts (the sandbox) never go through an environment proxy.
std::string proxy_from_env(const std::string& base_url) {
  std::string error;
  auto url = engine::parse_base_url(base_url, error);
  if (!url || !url->tls) return {};
  const std::string& host = url->host;
  if (host == "localhost" || host == "::1" || host.starts_with("127.")) return {};
  std::string proxy = env_or("HTTPS_PROXY", "https_proxy");
  if (proxy.empty()) return {};
  std::string no_proxy = env_or("NO_PROXY", "no_proxy");
  std::size_t start = 0;
  while (start <= no_proxy.size()) {
    std::size_t comma = no_proxy.find(',', start);
    std::string entry = trim(no_proxy.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    start = comma == std::string::npos ? no_proxy.size() + 1 : comma + 1;
    if (entry.empty()) continue;
    if (entry == "*") return {};
    if (entry.front() == '.') entry.erase(0, 1);
    if (host == entry || (host.size() > entry.size() && host.ends_with("." + entry))) return {};
  }
  if (proxy.find("://") == std::string::npos) proxy = "http://" + proxy;
  return proxy;
}

// The token comes from a file or an environment variable, never a flag (a
// flag would show in `ps` and shell history).
std::string load_token(const archive_flags& f) {
  if (!f.token_file.empty()) {
    struct stat st {};
    if (::stat(f.token_file.c_str(), &st) == 0 && (st.st_mode & S_IROTH))
      print_stderr(notice_level::warn, "hubbatch: warning: ",
                   fmt::format("token file '{}' is readable by other users (chmod 600 it)", f.token_file));
    std::string raw = io::read_secret_file(f.token_file);
    io::wipe_on_exit wipe_raw(raw);
    std::string t = trim(raw);
    if (t.empty()) throw std::runtime_error("token file '" + f.token_file + "' is empty");
    return t;
  }
  const char* v = std::getenv(f.token_env.c_str());
  if (!v || !*v) {
    throw std::runtime_error("no access token: set " + f.token_env +
                             " (or use --token-env NAME / --token-file PATH)");
  }
  return trim(v);
}

// The token is in this process's memory while it runs: no core dump may
// carry it. (RLIMIT_CORE 0 rather than PR_SET_DUMPABLE, which would also
// lock the user's own debugger out.)
void disable_core_dumps() {
  struct rlimit none {0, 0};
  ::setrlimit(RLIMIT_CORE, &none);
}

const engine::operation& operation_of(job_kind k) {
  switch (k) {
    case job_kind::create: return engine::create_operation();
    case job_kind::archive_labels: return engine::archive_labels_operation();
    case job_kind::export_records: return engine::read_operation(engine::operation::read_kind::records);
    case job_kind::verify_pairs: return engine::read_operation(engine::operation::read_kind::absent);
    case job_kind::archive: break;
  }
  return engine::archive_operation();
}

// --plan: no token, no connection; exit 1 when lines were rejected.
int run_plan(archive_flags& f) {
  std::optional<engine::archive_config> plan_rate_cfg;
  if (!f.plan_rate.empty()) {
    plan_rate_cfg.emplace();
    parse_rate(f.plan_rate, *plan_rate_cfg, "--plan-rate");
  }
  std::vector<std::string> inputs{f.cfg.input};
  inputs.insert(inputs.end(), f.cfg.extra_inputs.begin(), f.cfg.extra_inputs.end());
  // A label's name is looked up only when the job runs: for the plan's
  // counts any one type stands for it.
  if (!f.label.empty())
    f.cfg.label = parse_assoc_type(f.label).value_or(assoc_type{1, assoc_category::user_defined});
  if (f.all) f.cfg.batch_size = 1000;  // the plan is of the reads (HubSpot's cap)
  const engine::operation& op =
      f.all ? engine::read_operation(engine::operation::read_kind::records) : operation_of(f.kind);
  plan_figures fig = plan_inputs(f.cfg, op, inputs, f.quiet);
  fmt::print("{}", plan_text(fig, rate_for_plan(f.cfg, plan_rate_cfg), f.daily_budget, inputs, f.cfg));
  if (f.all)
    fmt::print(
        "--all: the figures above are the records and their read requests; what they are associated with, and so "
        "the archive's pairs and requests, is known only after reading them (nothing was read)\n");
  // The read passes' requests: one per 1,000 from-ids at least (more for
  // records with more associations than a page, known only when read).
  const std::uint64_t reads = (fig.distinct_from_ids + 999) / 1000;
  if (!f.all && !f.backup.empty())
    fmt::print("--backup: at least {} more read requests before the archive (1,000 from-ids each)\n", reads);
  if (f.verify)
    fmt::print("--verify: at least {} more read requests after the archive (1,000 from-ids each)\n", reads);
  return fig.rejected > 0 ? exit_partial : exit_ok;
}

// A pass before the archive did not finish, so nothing was archived: its
// summary on stderr, and the report (when asked for) is the pass's own, with
// "archived": false, so a scheduled job finds why.
void report_unfinished_pass(engine::job_result& pass, const std::string& name, const std::string& file,
                            const std::string& report_path) {
  pass.context.sections.emplace_back(name, pass_json(pass, file));
  pass.context.sections.emplace_back("archive_started", "false");
  const std::string json = engine::report_json(pass.totals, pass.context);
  if (!report_path.empty()) io::write_file_atomic(report_path, json + "\n");
  print_summary(engine::report_summary(pass.totals, pass.context), json);
}

int run_archive(archive_flags& f) {
  engine::archive_config& cfg = f.cfg;
  const std::string prefix = "hubbatch " + f.name + ": ";
  // A proxy URL may carry USER:PASSWORD@: overwrite it however this returns.
  io::wipe_on_exit wipe_proxy_flag(f.proxy);
  io::wipe_on_exit wipe_proxy(cfg.proxy);
  setup_logging(f.log_format == "json" ? log_format::json : log_format::text, f.log_level, f.name);
  const std::string& input_format = f.kind == job_kind::export_records ? f.input_format : f.format;
  if (!input_format.empty()) cfg.format = io::parse_input_format(input_format);
  if (std::string err = engine::validate(cfg); !err.empty()) {
    print_stderr(notice_level::error, prefix, err);
    return exit_usage;
  }
  if (cfg.input == "-" && ::isatty(STDIN_FILENO) == 1)
    print_stderr(notice_level::info, "hubbatch: ",
                 "reading pairs from stdin (the terminal); end with Ctrl-D, or give --input FILE");
  if (f.all) cfg.records_input = true;  // the read pass's input; the archive's is what it read
  if (f.plan) return run_plan(f);
  if (f.all) {
    if (cfg.report_path.empty() && f.backup.empty()) {
      print_stderr(notice_level::error, prefix,
                   "--all needs --report or --backup: the associations it reads are kept next to one of them "
                   "(REPORT.all.csv or BACKUP.all.csv) for the archive and for --resume");
      return exit_usage;
    }
  }
  if (f.proxy == "direct") cfg.proxy.clear();
  else if (!f.proxy.empty()) cfg.proxy = f.proxy;
  else if (!f.sandbox) cfg.proxy = proxy_from_env(cfg.base_url);
  if (std::string err = engine::validate(cfg); !err.empty()) {  // the proxy URL
    print_stderr(notice_level::error, prefix, err);
    return exit_usage;
  }
  // The journal goes next to the report unless told otherwise. Not with
  // --sandbox: each run gets a fresh embedded store, so there is nothing to resume.
  if (f.no_journal) cfg.journal_path.clear();
  else if (cfg.journal_path.empty() && !cfg.report_path.empty() && cfg.input != "-" && cfg.extra_inputs.empty() &&
           !f.sandbox) {
    cfg.journal_path = cfg.report_path + ".journal";
    cfg.journal_automatic = true;
  }
  if ((cfg.resume || cfg.restart) && cfg.journal_path.empty()) {
    print_stderr(notice_level::error, prefix,
                 "--resume and --restart need a journal (--journal PATH, or --report PATH with an input file)");
    return exit_usage;
  }
  // Before anything is opened for writing: an output that is an input (or
  // another output) would be truncated under the reader.
  std::vector<io::named_path> ins;
  for (const auto& in : f.inputs) ins.push_back({"--input", in});
  if (!cfg.ca_file.empty()) ins.push_back({"--ca-file", cfg.ca_file});
  const std::string all_work = f.all ? (cfg.report_path.empty() ? f.backup : cfg.report_path) + ".all.csv" : "";
  if (!f.token_file.empty()) ins.push_back({"--token-file", f.token_file});
  std::vector<io::named_path> outs{{"--failures", cfg.failures_path},
                                   {"--report", cfg.report_path},
                                   {cfg.journal_automatic ? "the journal (--report + .journal)" : "--journal",
                                    cfg.journal_path},
                                   {"--metrics-file", f.metrics_file},
                                   {"--output", cfg.output_path == "-" ? std::string() : cfg.output_path},
                                   {"--backup", f.backup},
                                   {"--all's working file", all_work}};
  if (std::string clash = io::find_path_clash(ins, outs); !clash.empty()) {
    print_stderr(notice_level::error, prefix, clash + ": refusing to overwrite it (nothing was written)");
    return exit_usage;
  }
  engine::job_options opt;
  opt.op = &operation_of(f.kind);
  opt.quiet = f.quiet;
  progress_settings ps;
  ps.quiet = f.quiet;
  ps.tty = ::isatty(STDERR_FILENO) == 1 && current_log_format() == log_format::text;  // json: progress log lines
  ps.interval = f.progress_every;
  ps.metrics_path = f.metrics_file;
  ps.operation = f.name;
  ps.done_word = operation_of(f.kind).done_word();
  ps.unit = f.kind == job_kind::export_records ? "records" : "pairs";
  ps.from_type = cfg.from_type;
  ps.to_type = cfg.to_type;
  progress_reporter progress(ps);
  if (progress.wanted()) {
    opt.on_progress = [&progress](const engine::job_progress& p) { progress.tick(p); };
    opt.progress_tick = progress.tick_interval();
  }
  std::unique_ptr<embedded_sandbox> sandbox;
  if (f.sandbox) {
    // An unlimited embedded sandbox sends no rate headers, which --rate auto
    // would meet with HubSpot's cautious fallback: nothing to pace against.
    if (f.sandbox_rate == "0" && f.rate == "auto") cfg.rate = engine::rate_mode::unlimited;
    // create starts from an empty portal; the removals from the input's pairs.
    sandbox = start_embedded_sandbox(cfg, f.sandbox_rate, f.kind != job_kind::create);
    cfg.base_url = "https://127.0.0.1:" + std::to_string(sandbox->port());
    opt.ca_pem = sandbox->ca_pem();
    opt.token = sandbox->token();
    if (!f.quiet)
      spdlog::info("embedded sandbox on {} seeded with {} pairs (rate {})", cfg.base_url, sandbox->seeded_pairs(),
                   f.sandbox_rate);
  } else {
    disable_core_dumps();
    opt.token = load_token(f);
  }
  io::wipe_on_exit wipe_token(opt.token);
  if (auto problem = resolve_labels(f.kind, f.label, f.include_unlabeled, opt.token, opt.ca_pem, cfg);
      !problem.message.empty()) {
    print_stderr(notice_level::error, prefix, problem.message);
    return problem.auth ? exit_auth : exit_usage;
  }

  // --backup: everything the archive will remove is on disk first; an
  // incomplete backup archives nothing.
  // --all: read what the records have first; that file is the archive's input
  // (and, with --backup, goes into the backup before anything is removed).
  std::optional<engine::job_result> all_read;
  if (f.all) {
    all_read = run_all_read_pass(cfg, opt, all_work);
    settle_exit(*all_read, true);
    if (!backup_complete(*all_read)) {
      report_unfinished_pass(*all_read, "all", all_work, cfg.report_path);
      spdlog::error("reading the records' associations did not finish ({} records failed, {} pending{}): nothing "
                    "was archived; {}",
                    all_read->totals.failed_pairs, all_read->totals.pending_pairs,
                    all_read->stop_message.empty() ? "" : ": " + all_read->stop_message,
                    cfg.journal_path.empty() ? "run again" : "run the same command again with --resume");
      return all_read->context.exit_code != exit_ok ? all_read->context.exit_code : exit_partial;
    }
    if (!f.backup.empty()) append_rows(all_work, f.backup);
    if (!f.quiet)
      spdlog::info("--all: {} associations ({} rows) of {} records read into {}{}", all_read->totals.read_associations,
                   all_read->totals.read_rows, all_read->totals.done_pairs, all_work,
                   f.backup.empty() ? "" : " and appended to " + f.backup);
    cfg.input = all_work;
    cfg.extra_inputs.clear();
    cfg.records_input = false;
    cfg.format = io::input_format::csv;
    cfg.columns.clear();
    cfg.delimiter = ',';
  }
  std::optional<engine::job_result> backup;
  if (!f.backup.empty() && !f.all) {
    backup = run_backup_pass(cfg, opt, f.backup);
    settle_exit(*backup, true);
    if (!backup_complete(*backup)) {
      report_unfinished_pass(*backup, "backup", f.backup, cfg.report_path);
      spdlog::error("backup incomplete ({} pairs failed, {} pending{}): nothing was archived; {}",
                    backup->totals.failed_pairs, backup->totals.pending_pairs,
                    backup->stop_message.empty() ? "" : ": " + backup->stop_message,
                    cfg.journal_path.empty() ? "run again" : "run the same command again with --resume");
      return backup->context.exit_code != exit_ok ? backup->context.exit_code : exit_partial;
    }
    if (!f.quiet)
      spdlog::info("backup: {} associations ({} rows) of {} pairs appended to {} in {} read requests",
                   backup->totals.read_associations, backup->totals.read_rows, backup->totals.input_pairs, f.backup,
                   backup->totals.requests);
  }
  engine::job_result r = engine::run_job(cfg, opt);
  settle_exit(r, cfg.allow_empty);
  std::optional<engine::job_result> verify;
  if (f.verify && r.stop == engine::stop_reason::none) {
    verify = run_verify_pass(cfg, opt);
    settle_verify_exit(r, *verify);
  }
  if (all_read) r.context.sections.emplace_back("all", pass_json(*all_read, all_work));
  if (backup) r.context.sections.emplace_back("backup", pass_json(*backup, f.backup));
  if (verify) r.context.sections.emplace_back("verify", pass_json(*verify, ""));
  if (verify || f.kind == job_kind::verify_pairs)
    r.context.sections.emplace_back("still_present_pairs", std::to_string(still_present_pairs(verify ? *verify : r)));
  progress.finish(r.totals, r.context.elapsed_s, r.invariant_error.empty() ? r.context.exit_code : exit_partial);

  if (!r.invariant_error.empty()) {
    spdlog::error("BUG: counters do not add up: {}", r.invariant_error);
  }
  std::string json = engine::report_json(r.totals, r.context);
  if (!cfg.report_path.empty()) io::write_file_atomic(cfg.report_path, json + "\n");
  print_summary(engine::report_summary(r.totals, r.context), json);
  if (verify && !f.quiet) print_stderr(notice_level::info, "", verify_summary(*verify));
  if (sandbox) {
    if (!f.quiet) print_stderr(notice_level::info, "", sandbox->summary());
    fmt::print("{}\n", json);
  }
  switch (r.context.exit_code) {
    case exit_auth:
      spdlog::error("stopped: {}", r.stop_message);
      if (!r.required_scopes.empty()) {
        std::string scopes;
        for (const auto& s : r.required_scopes) scopes += (scopes.empty() ? "" : ", ") + s;
        spdlog::error("the token lacks the scopes: {}", scopes);
      }
      break;
    case exit_partial:
      if (r.context.stop_reason == "empty_input") spdlog::error("{}: {}", cfg.input, r.stop_message);
      break;
    case exit_usage:
    case exit_pending:
      if (!r.stop_message.empty()) spdlog::warn("stopped: {}", r.stop_message);
      if (r.totals.pending_pairs > 0) {  // a stop (exit 3), or a refused certificate or unreachable host (exit 2)
        std::string how = !cfg.journal_path.empty()
                              ? "; to continue, run the same command again with --resume"
                              : cfg.failures_path.empty()
                                    ? " (use --report or --journal to be able to resume)"
                                    : "; rerun with --input " + cfg.failures_path + " to finish them";
        spdlog::warn("{} {} pending{}", r.totals.pending_pairs, r.context.unit, how);
      }
      break;
    default: break;
  }
  if (!r.invariant_error.empty()) return exit_partial;
  return r.context.exit_code;
}

}  // namespace

void add_job_command(CLI::App& app, command_runner* run, job_kind kind) {
  auto f = std::make_shared<archive_flags>();
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
  if (reading) c.batch_size = 1000;  // HubSpot's cap for batch/read
  cmd->add_option("--batch-size", c.batch_size,
                  kind == job_kind::archive ? "Inputs (distinct from-ids) per request"
                  : exporting               ? "Records per request (HubSpot reads at most 1,000)"
                  : verifying               ? "From-ids per request (HubSpot reads at most 1,000)"
                                            : "Inputs (pairs) per request")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
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
    *run = [f] { return run_archive(*f); };
  });
}

}  // namespace hubbatch::cli
