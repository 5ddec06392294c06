// Runs one job: the orchestration of the pipeline's steps (docs/ARCHITECTURE.md).
// One io_context on one thread: the feeder (engine/feed.cpp), the sessions
// (engine/session.cpp), the stop watcher and the progress ticker share one
// job_state (engine/job_state.hpp), so nothing needs a lock.
#include "engine/job.hpp"

#include "engine/feed.hpp"
#include "engine/job_state.hpp"
#include "engine/session.hpp"
#include "io/secret.hpp"
#include "io/tls.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>

#include <sys/stat.h>
#include <unistd.h>

namespace hubbatch::engine {
namespace {

namespace asio = boost::asio;

// Tells the dispatcher the time at --deadline (it decides the stop), and
// after any stop gives in-flight requests cfg.drain_timeout to finish
// before cutting their connections (those pairs then end pending, to be
// resent by a resumed run).
asio::awaitable<void> stop_watcher(job_state& j, time_point deadline) {
  asio::steady_timer timer(j.ioc);
  for (;;) {
    if (j.disp.stopped() != stop_reason::none) break;
    if (j.reading_done && j.active_sessions == 0) co_return;
    j.disp.note_time(clock::now());
    if (j.disp.stopped() != stop_reason::none) break;
    co_await j.wake.wait(timer, deadline);
  }
  j.on_stopped();
  time_point drain_end = clock::now() + j.cfg.drain_timeout;
  while (j.active_sessions > 0) {
    if (clock::now() >= drain_end) {
      spdlog::warn("drain timeout: cutting {} connection(s) with requests in flight", j.active_sessions);
      for (auto& abort : j.aborters) abort();
      break;
    }
    co_await j.wake.wait(timer, drain_end);
  }
}

// ---------------------------------------------------------------- progress

// The one place progress leaves the job (STYLE.md rule 10): every
// opt.progress_tick, hand the live counters to opt.on_progress. Ends when it
// is the last task left (`live_tasks` counts it too).
asio::awaitable<void> progress_ticker(job_state& j, time_point started, const int& live_tasks) {
  asio::steady_timer timer(j.ioc);
  while (live_tasks > 1) {
    co_await j.wake.wait(timer, clock::now() + j.opt.progress_tick);
    if (live_tasks <= 1) break;
    job_progress p{j.totals,
                   j.input_bytes_read,
                   j.input_bytes_total,
                   j.reading_done,
                   std::chrono::duration<double>(clock::now() - started).count(),
                   j.pace.requests_per_second(),
                   to_string(j.pace.mode()),
                   j.spill != nullptr};
    j.opt.on_progress(p);
  }
}

// A new job never writes its rows over a file that has some (a rerun of a
// finished export, a backup named as the output) unless told to; a resumed
// one appends to its own.
void check_output(const archive_config& cfg, const operation& op, bool resuming) {
  struct stat st {};
  if (!op.reads() || cfg.output_path.empty() || cfg.output_path == "-" || resuming || cfg.output_overwrite ||
      cfg.output_append)
    return;
  if (::stat(cfg.output_path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
    throw std::runtime_error("output '" + cfg.output_path + "' exists (" + std::to_string(st.st_size) +
                             " bytes): --resume continues the job that wrote it (with its journal), --overwrite "
                             "replaces it");
}

void rethrow_if(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

}  // namespace

job_result run_job(const archive_config& cfg, const job_options& opt) {
  if (std::string why = validate(cfg); !why.empty()) throw std::runtime_error(why);
  std::string url_error;
  auto url = parse_base_url(cfg.base_url, url_error);
  if (!url) throw std::runtime_error(url_error);
  std::optional<endpoint_url> proxy;
  if (!cfg.proxy.empty() && !(proxy = parse_proxy_url(cfg.proxy, url_error))) throw std::runtime_error(url_error);
  std::string no_credentials;
  io::wipe_on_exit wipe_proxy_credentials(proxy ? proxy->basic_credentials : no_credentials);
  const endpoint_url* via = proxy ? &*proxy : nullptr;
  if (!valid_token(opt.token))  // never print it: it may be a real token with a stray byte
    throw std::runtime_error("the access token must be 1-4096 visible ASCII characters (no spaces, CR or LF)");
  std::optional<asio::ssl::context> tls_ctx;
  if (url->tls)
    tls_ctx.emplace(opt.ca_pem.empty() ? io::make_client_context(cfg.ca_file)
                                       : io::make_client_context_from_pem(opt.ca_pem));
  if (cfg.input != "-" && ::access(cfg.input.c_str(), R_OK) != 0)
    throw std::runtime_error("cannot read input '" + cfg.input + "': " + std::strerror(errno));
  for (const auto& extra : cfg.extra_inputs) {
    if (::access(extra.c_str(), R_OK) != 0)
      throw std::runtime_error("cannot read input '" + extra + "': " + std::strerror(errno));
  }

  // The journal: refuse to silently redo or mix up jobs (README "Journals and resuming").
  std::optional<journal_state> previous;
  std::optional<journal_writer> journal;
  if (!cfg.journal_path.empty()) {
    std::string operation(opt.op->name());
    if (!cfg.label.empty()) operation += " " + to_string(cfg.label);
    if (opt.op->reads() && !cfg.output_path.empty()) operation += " to " + cfg.output_path;  // rows go on there
    job_identity id = identify_job(cfg.input, cfg.from_type, cfg.to_type, cfg.api_version, operation);
    auto existing = read_journal(cfg.journal_path, line_number_bound(cfg.input));
    if (existing && existing->valid_bytes == 0) existing.reset();  // created, never written
    if (existing && !cfg.restart) {
      const std::string diff = describe_difference(existing->identity, id);
      const std::string own_journal =
          "give this input its own --report (or --journal), or --restart to discard that journal";
      if (!diff.empty() && cfg.journal_automatic && existing->finished && !cfg.resume) {
        // REPORT.journal of a finished job on another input (say, its failures
        // file fed back with the same --report) or another operation: nothing
        // in it is left to resume, and the report it stands beside is being
        // replaced too. With --resume the user means that job: refused below.
        spdlog::info("journal '{}' holds a finished job on another input: starting a new job in it",
                     cfg.journal_path);
      } else if (!diff.empty()) {
        throw std::runtime_error("journal '" + cfg.journal_path + "' belongs to " +
                                 (existing->finished ? "a finished" : "an unfinished") + " other job (" + diff +
                                 "): to continue that job, rerun its own command with its input and --resume; to " +
                                 "run this as a new job, " + own_journal);
      } else if (!cfg.resume) {
        // A finished job has nothing to continue; an export's rows are in its output.
        const std::string again = opt.op->reads() && !cfg.output_path.empty() && !cfg.output_append &&
                                          !cfg.output_overwrite
                                      ? "--restart --overwrite to read everything again into it"
                                      : "--restart to start over";
        throw std::runtime_error("journal '" + cfg.journal_path + "' exists from " +
                                 (existing->finished ? "a finished run of this job (nothing is left to resume): "
                                                     : "an unfinished run of this job: rerun with --resume to "
                                                       "continue it, or ") +
                                 again);
      } else {
        previous = std::move(existing);
      }
    }
    check_output(cfg, *opt.op, previous.has_value());
    journal.emplace(cfg.journal_path, id, previous ? &*previous : nullptr, cfg.journal_sync_interval);
    journal->run_started();
  } else {
    check_output(cfg, *opt.op, false);
  }

  // The state outlives the io_context, which outlives the sessions: a
  // coroutine frame still in the io_context when it is destroyed may touch
  // the state, never a session's destroyed sockets or timers.
  std::unique_ptr<job_state> state;
  asio::io_context ioc(1);
  state = std::make_unique<job_state>(cfg, opt, *opt.op, ioc);
  job_state& j = *state;
  j.input_name = cfg.input == "-" ? "<stdin>" : cfg.input;
  j.previous = previous ? &*previous : nullptr;
  j.journal = journal ? &*journal : nullptr;
  // A reading operation's rows: appended to what a resumed job wrote, else a
  // new file, never one with rows in it unless told (a rerun of a finished
  // export, a backup named as the output).
  std::optional<read_output> output;
  if (opt.op->reads() && !cfg.output_path.empty()) {
    output.emplace(cfg.output_path, cfg.output, !previous && !cfg.output_append);
    j.output = &*output;
    j.disp.set_page_sink([&j](std::span<const codec::read_row> rows) { j.output->rows(rows); });
  }
  auto started = clock::now();
  const std::string path = associations_path(cfg.api_version, cfg.from_type, cfg.to_type);

  std::exception_ptr failure;
  asio::signal_set signals(ioc);
  int live_tasks = 0;
  // Spawns a task; when the last one ends, the signal wait is dropped so run() returns.
  auto spawn = [&](asio::awaitable<void> task) {
    ++live_tasks;
    asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const local_write_error& w) {
          // A full disk (failures file, partitions): a stop like any other,
          // drained, reported, resumable.
          j.disp.note_local_failure(w.what());
        } catch (...) {
          if (!failure) failure = e;
          j.disp.note_internal_error("internal error");
        }
        j.on_stopped();
      }
      if (--live_tasks == 0) {
        boost::system::error_code ec;
        signals.cancel(ec);
      }
      j.wake.notify_all();  // the progress ticker ends with the last other task
    });
  };
  j.spawn = spawn;
  spawn(feed_input(j));
  spawn(stop_watcher(j, j.disp.deadline()));
  if (opt.on_progress) spawn(progress_ticker(j, started, live_tasks));

  session_pool sessions(j, *url, via, tls_ctx ? &*tls_ctx : nullptr, path);

  std::function<void(const boost::system::error_code&, int)> on_signal;
  if (opt.handle_signals) {
    signals.add(SIGINT);
    signals.add(SIGTERM);
    on_signal = [&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (j.disp.note_signal(sig)) std::_Exit(3);  // a second signal: leave now
      spdlog::warn("{} received: finishing in-flight requests, then stopping (again to exit now)",
                   sig == SIGINT ? "SIGINT" : "SIGTERM");
      j.on_stopped();
      signals.async_wait(on_signal);
    };
    signals.async_wait(on_signal);
  }
  ioc.run();
  rethrow_if(failure);

  // Whatever is still waiting after a stop is pending.
  j.flush_grouper();
  j.disp.drain_pending();
  if (!j.failures.finish() && j.disp.stopped() == stop_reason::none) j.disp.note_local_failure(j.failures.error());
  if (output && !output->flush() && j.disp.stopped() == stop_reason::none) j.disp.note_local_failure(output->error());
  if (journal && !journal->drain() && j.disp.stopped() == stop_reason::none)
    j.disp.note_local_failure(journal->error().value_or("the journal failed"));
  if (j.disp.stopped() == stop_reason::local_io) {
    // Pairs read into a partition that could not be written or read back
    // were never sent: pending, like every pair a stop leaves unsent.
    const auto& c = j.totals;
    const auto accounted = c.done_pairs + c.failed_pairs + c.rejected_pairs + c.duplicate_pairs + c.pending_pairs;
    if (c.input_pairs > accounted) j.totals.pending_pairs += c.input_pairs - accounted;
  }
  // A journal that could not be completed reads as unfinished: a resumed
  // run resends what it does not show settled.
  if (journal && !journal->run_ended(j.totals.pending_pairs == 0) && j.disp.stopped() == stop_reason::none)
    j.disp.note_local_failure(journal->error().value_or("the journal failed"));

  job_result out;
  out.totals = j.totals;
  out.required_scopes = j.disp.required_scopes();
  out.stop_message = j.disp.stop_message();
  auto& ctx = out.context;
  ctx.operation = j.op.name();
  ctx.done_word = j.op.done_word();
  ctx.reads = j.op.reads();
  if (j.op.reads() && j.op.read_mode() == operation::read_kind::records) ctx.unit = "records";
  ctx.from_type = cfg.from_type;
  ctx.to_type = cfg.to_type;
  ctx.api_version = cfg.api_version;
  ctx.base_url = cfg.base_url;
  ctx.effective_rate_max = j.limiter.max();
  ctx.effective_rate_window_s = std::chrono::duration<double>(j.limiter.window()).count();
  ctx.rate_mode = to_string(j.pace.mode());
  ctx.rate_mode_switches = j.pace.switches();
  if (j.pace.mode() == pace_mode::adaptive) {
    ctx.adaptive_rate = j.pace.requests_per_second();
    ctx.effective_rate_max = static_cast<int>(std::lround(ctx.adaptive_rate));  // per second
    ctx.effective_rate_window_s = 1;
  }
  ctx.elapsed_s = std::chrono::duration<double>(clock::now() - started).count();
  ctx.stop_reason = to_string(j.disp.stopped());
  ctx.input_columns = j.input_columns;
  ctx.input_hint = j.input_hint;
  if (j.partition.inputs > 0) ctx.partition = j.partition;
  out.stop = j.disp.stopped();
  out.recent_requests = j.limiter.recent(clock::now());
  out.wakeups = j.work.woken() + j.space.woken() + j.wake.woken();
  const auto& c = out.totals;
  if (journal) {
    job_totals t;
    t.journal_path = cfg.journal_path;
    t.runs = previous ? previous->runs + 1 : 1;
    t.done_pairs = c.done_pairs + (previous ? previous->archived : 0);
    t.already_absent_pairs = c.already_absent_pairs + (previous ? previous->already_absent : 0);
    // A retried pair's earlier failure is replaced by this run's outcome.
    t.failed_pairs = c.failed_pairs + (previous ? previous->failed - c.retried_failed_pairs : 0);
    t.rejected_pairs = c.rejected_pairs + (previous ? previous->rejected : 0);
    t.duplicate_pairs = c.duplicate_pairs + (previous ? previous->duplicate : 0);
    t.pending_pairs = c.pending_pairs;
    t.input_pairs = t.done_pairs + t.failed_pairs + t.rejected_pairs + t.duplicate_pairs + t.pending_pairs;
    ctx.totals = t;
  }
  out.invariant_error = out.totals.check();
  return out;
}

}  // namespace hubbatch::engine
