// Running `hubbatch archive`, `create` (`restore`), `archive-labels`,
// `export` and `verify` once their flags are parsed (cli/job_cmd.cpp): the
// token from env or file, labels resolved (cli/labels.cpp), archive's passes
// (cli/job_passes.cpp), the job with the command's operation (optionally
// against an embedded sandbox), the report printed and written.
#include "cli/exit_codes.hpp"
#include "cli/job_flags.hpp"
#include "cli/job_passes.hpp"
#include "cli/labels.hpp"
#include "cli/logging.hpp"
#include "cli/plan.hpp"
#include "cli/progress.hpp"
#include "cli/sandbox_embed.hpp"
#include "engine/job.hpp"
#include "io/files.hpp"
#include "io/pair_reader.hpp"
#include "io/same_file.hpp"
#include "io/secret.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hubbatch::cli {
namespace {

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
std::string load_token(const job_flags& f) {
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


// --plan: no token, no connection; exit 1 when lines were rejected.
int run_plan(job_flags& f) {
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

// A pass before the archive (`name`: "backup", "all") did not cover every
// pair, so nothing is archived: its summary and why on stderr, and the
// report (when asked for) is the pass's own, with "archive_started": false,
// so a scheduled job finds why. Returns the exit code.
int stop_before_archive(engine::job_result& pass, const std::string& name, const std::string& file,
                        const engine::archive_config& cfg) {
  pass.context.sections.emplace_back(name, pass_json(pass, file));
  pass.context.sections.emplace_back("archive_started", "false");
  const std::string json = engine::report_json(pass.totals, pass.context);
  if (!cfg.report_path.empty()) io::write_file_atomic(cfg.report_path, json + "\n");
  print_summary(engine::report_summary(pass.totals, pass.context), json);
  spdlog::error("{} ({} {} failed, {} pending{}): nothing was archived; {}",
                name == "all" ? "reading the records' associations did not finish" : "backup incomplete",
                pass.totals.failed_pairs,
                pass.context.unit, pass.totals.pending_pairs, pass.stop_message.empty() ? "" : ": " + pass.stop_message,
                cfg.journal_path.empty() ? "run again" : "run the same command again with --resume");
  return unfinished_pass_exit(pass);
}

}  // namespace

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

int run_job_command(job_flags& f) {
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
    opt.prior_requests = all_read->recent_requests;  // the next pass shares the rate window
    settle_exit(*all_read, true);
    if (!backup_complete(*all_read)) return stop_before_archive(*all_read, "all", all_work, cfg);
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
    opt.prior_requests = backup->recent_requests;
    settle_exit(*backup, true);
    if (!backup_complete(*backup)) return stop_before_archive(*backup, "backup", f.backup, cfg);
    if (!f.quiet)
      spdlog::info("backup: {} associations ({} rows) of {} pairs appended to {} in {} read requests",
                   backup->totals.read_associations, backup->totals.read_rows, backup->totals.input_pairs, f.backup,
                   backup->totals.requests);
  }
  engine::job_result r = engine::run_job(cfg, opt);
  settle_exit(r, cfg.allow_empty);
  std::optional<engine::job_result> verify;
  if (f.verify && r.stop == engine::stop_reason::none) {
    opt.prior_requests = r.recent_requests;
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

}  // namespace hubbatch::cli
