// The state one job's coroutines share (one thread, no locks): the feeder
// (engine/feed.cpp) puts pairs in through the pair_sink side, the grouper
// batches them, sessions (engine/session.cpp) send what the dispatcher hands
// out, and settled pairs leave through on_outcome() to the journal and the
// failures file. Included by the job's own .cpp files only.
#pragma once

#include "codec/read_response.hpp"
#include "engine/config.hpp"
#include "engine/counters.hpp"
#include "engine/dispatcher.hpp"
#include "engine/failures_file.hpp"
#include "engine/grouper.hpp"
#include "engine/job.hpp"
#include "engine/journal.hpp"
#include "engine/local_error.hpp"
#include "engine/notifier.hpp"
#include "engine/operation.hpp"
#include "engine/pair_type.hpp"
#include "engine/read_output.hpp"
#include "engine/partitions.hpp"
#include "engine/pacing.hpp"
#include "engine/rate_limiter.hpp"
#include "io/pair_reader.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace hubbatch::engine {

// State shared by the feeder and the sessions (one thread, no locks).
struct job_state : io::pair_sink {
  job_state(const archive_config& c, const job_options& o, const operation& operation, boost::asio::io_context& io)
      : cfg(c),
        opt(o),
        op(operation),
        op_uses_type(operation.uses_type()),
        ioc(io),
        failures(c.failures_path, c.failures_append),
        grouper(c.group_window, c.batch_size, c.max_pairs_per_request),
        disp(make_dispatcher_options(c), totals,
             [this](std::span<const pair_id> pairs, std::span<const std::uint64_t> lines, const pair_outcome& out) {
               on_outcome(pairs, lines, out);
             },
             operation),
        limiter(1, std::chrono::seconds(10)),
        pace(c) {
    grouper.set_one_pair_per_input(!operation.groups_to_ids());
    apply_pace();
    // A fixed rate cannot see what the server counted of an earlier job of
    // the token; --rate auto reads it from the first answer's headers.
    if (c.rate == rate_mode::fixed) limiter.carry(o.prior_requests);
  }

  // The limit pacing decided, into the limiter (pacing owns the decision).
  void apply_pace() {
    const pace_limit l = pace.limit();
    limiter.set_limit(l.max, l.window);
    limiter.set_spacing(l.spacing);
  }

  static dispatcher::options make_dispatcher_options(const archive_config& c) {
    dispatcher::options o;
    o.max_retries = c.max_retries;
    o.max_inputs = c.batch_size;
    o.learn_batch_size = c.batch_size_auto;
    o.batch_ceiling = c.batch_size_ceiling;
    o.max_pairs = c.max_pairs_per_request;
    o.seed = c.seed ? c.seed : std::random_device{}();
    o.max_retry_after = c.max_retry_after;
    o.throttle_timeout = c.throttle_timeout;
    o.unreachable_after = std::max(c.connections, 2);  // every connection tried (twice with one)
    o.max_requests = c.max_requests;
    o.daily_reserve = c.daily_reserve;
    if (c.deadline > duration::zero()) o.deadline = clock::now() + c.deadline;
    return o;
  }

  // pair_sink: the parser's output.
  void on_pair(pair_id p, std::uint64_t line) override {
    if (op_uses_type || !p.type.empty()) [[unlikely]] {
      if (!admit_type(p, line)) return;
    }
    if (previous || counting_only) {
      if (!admit_rare(p, line)) return;
    } else {
      ++totals.input_pairs;
    }
    if (spill) {  // first pass of a partitioned file: only sort the pair into its partition
      spill->write(p, line);
      return;
    }
    staged_pairs[staged] = p;
    staged_lines[staged] = line;
    if (++staged == stage_size) add_staged();
  }

  // The pair's type as the operation takes it (engine/pair_type.hpp);
  // false when its line is rejected.
  [[gnu::noinline]] bool admit_type(pair_id& p, std::uint64_t line) {
    const std::string why = engine::settle_type(p, op, cfg.label, cfg.refused_types);
    if (why.empty()) return true;
    on_reject(line, io::reject_reason::bad_association_type, why, pair_line(p));
    return false;
  }

  // on_pair() in a resumed run or after a stop: false when the pair needs
  // nothing more. Out of line, so the path of every other pair stays short
  // (inlined, it gave on_pair a 280-byte stack frame).
  [[gnu::noinline]] bool admit_rare(pair_id p, std::uint64_t line) {
    bool retry = false;
    if (previous && previous->settled.contains(line)) {  // an earlier run settled it
      retry = cfg.retry_failed && previous->retryable_failed.contains(line);
      if (!retry) {
        ++totals.skipped_pairs;
        carry_over_failure(p, line);
        return false;
      }
      ++totals.retried_failed_pairs;
    }
    ++totals.input_pairs;
    if (counting_only) {  // stopped: the rest of a file is counted, not sent
      count_pending(p, line);
      return false;
    }
    if (!retry && previous && previous->sent.contains(line)) ++totals.resent_pairs;
    return true;
  }

  // A pair an earlier run failed (and this run does not retry) keeps its row
  // in the failures file: the file always lists every failure of the job.
  void carry_over_failure(pair_id p, std::uint64_t line) {
    if (const auto* f = previous->failure_of(line))
      failures.pairs({&p, 1}, {&line, 1},
                     {pair_fate::failed, f->category, 0, "failed in an earlier run of the job", f->retryable});
  }

  // Pairs go to the grouper a block at a time (it prefetches their table
  // slots). Call add_staged() before anything that looks at the grouper.
  // in_runs: the staged pairs come one run per from-id (a grouped partition).
  void add_staged(bool in_runs = false) {
    if (staged == 0) return;
    bool accepted[stage_size];
    if (in_runs) {
      grouper.add_runs(staged_pairs, staged_lines, staged, accepted);
    } else {
      grouper.add_many(staged_pairs, staged_lines, staged, accepted);
    }
    for (std::size_t k = 0; k < staged; ++k) {
      if (!accepted[k]) {
        ++totals.duplicate_pairs;
        if (journal) journal->settled(settled_outcome::duplicate, {}, staged_lines[k]);
      }
    }
    staged = 0;
    while (grouper.full()) take_one_batch();
  }

  // A pair read after a stop (from input line `line`): counted pending, never sent.
  void count_pending(pair_id p, std::uint64_t line) {
    ++totals.pending_pairs;
    failures.pairs({&p, 1}, {&line, 1}, {pair_fate::pending, to_string(disp.stopped()), 0, disp.stop_message()});
  }

  // The dispatcher settled pairs (or left them pending), all with outcome `out`.
  void on_outcome(std::span<const pair_id> pairs, std::span<const std::uint64_t> lines, const pair_outcome& out) {
    failures.pairs(pairs, lines, out);
    if (!journal || out.outcome == pair_fate::pending || lines.empty()) return;
    const bool failed = out.outcome == pair_fate::failed;
    settled_outcome o = failed && out.retryable            ? settled_outcome::failed_retryable
                        : failed                           ? settled_outcome::failed
                        : !out.category.empty()            ? settled_outcome::already_absent
                                                           : settled_outcome::archived;
    journal->settled(o, failed ? out.category : std::string_view{}, lines);
  }

  // A request is about to carry these pairs: journal them as sent (a resend
  // of the same pairs needs no new record).
  void on_send(const work_item& item) {
    if (!journal || item.resend) return;
    journal->sent(item.lines);
  }

  // Writes what was settled to the journal, and stops the run when a local
  // file could not be written (the dispatcher decides; pairs end pending).
  // A reading operation's rows go to disk first: a record the journal
  // calls read has its rows written (engine/read_output.hpp).
  void flush_journal() {
    std::string failed;
    if (output && !output->flush()) failed = output->error();
    else if (journal && !journal->flush(clock::now())) failed = journal->error().value_or("the journal failed");
    else if (!failures.error().empty()) failed = failures.error();
    if (!failed.empty() && disp.stopped() == stop_reason::none) {
      disp.note_local_failure(std::move(failed));
      on_stopped();
    }
  }

  void on_reject(std::uint64_t line, io::reject_reason r, std::string_view detail, std::string_view raw) override {
    const std::string_view input = cfg.extra_inputs.empty() ? std::string_view{} : std::string_view(input_name);
    if (previous && previous->settled.contains(line)) {
      ++totals.skipped_pairs;
      failures.rejected(input, line, r, detail, raw);  // still rejected: the failures file keeps listing it
      return;
    }
    if (journal) journal->settled(settled_outcome::rejected, io::to_string(r), line);
    ++totals.input_pairs;
    ++totals.rejected_pairs;
    ++totals.rejected_by_reason[io::to_string(r)];
    failures.rejected(input, line, r, detail, raw);
    if (!opt.quiet && ++rejects_printed <= 10)
      spdlog::warn("{}:{}: rejected: {}: {}: {}", input_name, line, io::to_string(r), io::describe(r), detail);
  }

  // After an input is read: which of its columns were used, and any
  // separator hint, for the summary and the report. With several inputs each
  // is prefixed by its file name.
  void note_input(const std::string& path, const io::pair_parser& parser) {
    const std::string prefix = cfg.extra_inputs.empty() ? std::string() : path + ": ";
    if (auto c = parser.columns())
      input_columns += (input_columns.empty() ? "" : "; ") + prefix + io::to_string(*c);
    if (!parser.hint().empty()) input_hint += (input_hint.empty() ? "" : "; ") + prefix + parser.hint();
  }

  // Cuts the next batch at the caps the dispatcher holds now (it alone
  // halves them after a "too many inputs"; the grouper only reads them here).
  // Ready batches beyond which the feeder stops reading: enough to keep
  // every connection busy. While the batch size is still being learned,
  // fewer: batches cut ahead at the old size go out at the old size.
  std::size_t queue_high_water() const {
    const auto connections = static_cast<std::size_t>(cfg.connections);
    return disp.sizing().settled() ? connections * 4 + 4 : connections + 1;
  }

  void take_one_batch() {
    grouper.set_limits(disp.cut_inputs(), disp.cut_pair_cap());
    std::vector<pair_id> batch;
    std::vector<std::uint64_t> batch_lines;
    if (grouper.take_batch(batch, batch_lines)) {
      ++totals.batches;
      disp.add(std::move(batch), std::move(batch_lines));
      work.notify_one();
    }
  }
  void flush_grouper() {
    add_staged();
    while (!grouper.empty()) take_one_batch();
  }
  bool finished() const { return reading_done && disp.queued() == 0 && disp.in_flight() == 0; }

  // After the dispatcher stopped the run (it alone decides): stop reading a
  // pipe, and let everybody see it.
  void on_stopped() {
    if (stdin_desc) {
      boost::system::error_code ec;
      stdin_desc->cancel(ec);
    }
    notify_everyone();
  }

  // A stop, the end of the input or of the work: everybody looks again.
  void notify_everyone() {
    wake.notify_all();
    work.notify_all();
    space.notify_all();
  }

  const archive_config& cfg;
  const job_options& opt;
  const operation& op;
  const bool op_uses_type;  // op.uses_type(), read for every pair
  boost::asio::io_context& ioc;
  counters totals;
  failures_file failures;
  pair_grouper grouper;
  dispatcher disp;
  window_limiter limiter;
  pacing pace;  // which pace is in force; its limit() is what limiter applies
  // Who waits for what: `work`, sessions for a batch due and a rate slot
  // (one woken per batch added or slot released); `space`, the feeder for
  // room in the dispatcher's queue (woken when a session takes a batch);
  // `wake`, the watchers (stop, drain, progress, idle stdin) for events.
  notifier work;
  notifier space;
  notifier wake;
  std::string input_name;
  std::string input_columns;  // report_context::input_columns
  std::string input_hint;     // report_context::input_hint
  bool reading_done = false;
  bool counting_only = false;
  std::uint64_t rejects_printed = 0;
  boost::asio::posix::stream_descriptor* stdin_desc = nullptr;
  time_point last_input{};
  static constexpr std::size_t stage_size = 64;
  pair_id staged_pairs[stage_size];
  std::uint64_t staged_lines[stage_size];
  std::size_t staged = 0;
  partition_files* spill = nullptr;  // set during the first pass over a partitioned file
  partition_summary partition;       // the partition passes so far (report_context::partition)
  // Journal (null without --journal): what earlier runs settled, and the writer.
  const journal_state* previous = nullptr;
  journal_writer* journal = nullptr;
  read_output* output = nullptr;  // a reading operation's rows (null: none kept)
  // A reading operation's 2xx answers, decoded by every session in turn:
  // decoding and settling happen without a suspension in between, so one
  // parser (the largest buffers of a read) serves all connections.
  codec::read_response_decoder read_decoder;
  codec::decoded_read page;
  std::vector<std::function<void()>> aborters;  // close every session's socket (drain timeout)
  std::function<void(boost::asio::awaitable<void>)> spawn;  // run_job's: a task it waits for and whose
                                                            // exception stops the run
  int active_sessions = 0;
  std::uint64_t acquired = 0;                   // limiter slots taken so far
  std::uint64_t input_bytes_read = 0;           // for job_progress
  std::uint64_t input_bytes_total = 0;          // size of a regular input file, else 0
};


}  // namespace hubbatch::engine
