// The archive job: one io_context, one feeder coroutine reading the input,
// cfg.connections session coroutines each owning one keep-alive connection
// (STYLE.md rule 3), and a dispatcher deciding what each response means.
// Everything runs on one thread, so the shared state needs no locks.
#include "engine/job.hpp"

#include "codec/archive_encoder.hpp"
#include "codec/response.hpp"
#include "engine/dispatcher.hpp"
#include "engine/failures_file.hpp"
#include "engine/grouper.hpp"
#include "engine/journal.hpp"
#include "engine/rate_limiter.hpp"
#include "engine/runs.hpp"
#include "io/input_decoder.hpp"
#include "io/pair_reader.hpp"
#include "io/secret.hpp"
#include "io/tls.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/version.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hubbatch::engine {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Overwrites a header's value in place (a token or proxy credentials)
// before Beast frees its storage.
template <class Message>
void wipe_field(Message& m, http::field name) {
  if (auto it = m.find(name); it != m.end()) io::wipe(const_cast<char*>(it->value().data()), it->value().size());
}

// A condition variable for coroutines on one thread: waiters park on their
// own timer with a deadline; notify_all() wakes them all early.
class notifier {
 public:
  void notify_all() {
    for (auto* t : waiters_) t->cancel();
  }
  asio::awaitable<void> wait(asio::steady_timer& t, time_point deadline) {
    t.expires_at(deadline);
    waiters_.push_back(&t);
    co_await t.async_wait(use_tuple);
    std::erase(waiters_, &t);
  }

 private:
  std::vector<asio::steady_timer*> waiters_;
};

// Temporary partitions of a large input file, by a hash of the from-id: all
// pairs of one from-id land in the same partition, and a partition is about
// half a group window, so reading the partitions one after the other brings
// every from-id's to-ids together in the window whatever the input order
// (a shuffled file otherwise fills requests with one to-id per input).
// The files are unlinked at creation, so they vanish with the process.
class spill_files {
 public:
  struct record {
    std::uint64_t from, to, line;
  };

  explicit spill_files(std::size_t count) {
    const char* dir = std::getenv("TMPDIR");
    std::string base = (dir && *dir ? std::string(dir) : std::string("/tmp")) + "/hubbatch-spill-XXXXXX";
    for (std::size_t i = 0; i < count; ++i) {
      std::vector<char> name(base.begin(), base.end());
      name.push_back('\0');
      int fd = ::mkstemp(name.data());
      if (fd < 0) throw std::runtime_error("cannot create a temporary file in " + base + ": " + std::strerror(errno));
      ::unlink(name.data());
      std::FILE* f = ::fdopen(fd, "w+b");
      if (!f) throw std::runtime_error(std::string("fdopen: ") + std::strerror(errno));
      files_.push_back(f);
    }
    // At most 2 MiB of gathered records over all partitions (up to 1024),
    // so memory stays flat whatever the input size; even 1 KiB a write
    // takes the per-record locking out of the profile.
    per_write_ = std::clamp<std::size_t>((2u << 20) / sizeof(record) / std::max<std::size_t>(count, 1),
                                         1024 / sizeof(record), 65536 / sizeof(record));
    pending_.resize(count);
  }
  ~spill_files() {
    for (auto* f : files_) std::fclose(f);
  }
  spill_files(const spill_files&) = delete;
  spill_files& operator=(const spill_files&) = delete;

  // Records are gathered per partition and written up to 64 KiB at a time
  // (one locked fwrite per record was ~4% of the client's CPU).
  void write(std::uint64_t from, std::uint64_t to, std::uint64_t line) {
    // The high half of a multiplicative hash, scaled to the partition count
    // by a multiply instead of a division (the division alone was a fifth
    // of this function's cost).
    const std::uint64_t h = (from * 0x9e3779b97f4a7c15ULL) >> 32;
    const auto i = static_cast<std::size_t>((h * files_.size()) >> 32);
    auto& b = pending_[i];
    b.push_back(record{from, to, line});
    if (b.size() >= per_write_) write_out(i);
  }
  std::size_t count() const noexcept { return files_.size(); }
  // Rewinds partition i for reading; `records` receives how many it holds.
  std::FILE* open_for_reading(std::size_t i, std::size_t& records) {
    write_out(i);
    std::FILE* f = files_[i];
    const auto fail = [] {
      throw std::runtime_error(std::string("cannot read a temporary partition: ") + std::strerror(errno));
    };
    if (std::fflush(f) != 0) fail();
    const off_t size = ::ftello(f);
    if (size < 0 || std::fseek(f, 0, SEEK_SET) != 0) fail();
    records = static_cast<std::size_t>(size) / sizeof(record);
    return f;
  }

 private:
  void write_out(std::size_t i) {
    auto& b = pending_[i];
    if (!b.empty() && std::fwrite(b.data(), sizeof(record), b.size(), files_[i]) != b.size())
      throw std::runtime_error(std::string("cannot write a temporary partition: ") + std::strerror(errno));
    b.clear();
  }

  std::vector<std::FILE*> files_;
  std::vector<std::vector<record>> pending_;  // per partition, not yet written
  std::size_t per_write_ = 0;                 // records gathered before a write
};

// State shared by the feeder and the sessions (one thread, no locks).
struct job_state : io::pair_sink {
  job_state(const archive_config& c, const job_options& o, asio::io_context& io)
      : cfg(c),
        opt(o),
        ioc(io),
        failures(c.failures_path),
        grouper(c.group_window, c.batch_size, c.max_pairs_per_request),
        disp(make_dispatcher_options(c), totals,
             [this](std::span<const pair_id> pairs, std::span<const std::uint64_t> lines, const pair_outcome& out) {
               on_outcome(pairs, lines, out);
             }),
        limiter(1, std::chrono::seconds(10)) {
    switch (c.rate) {
      case rate_mode::automatic: {
        controller.emplace(rate_controller::limit{100, std::chrono::seconds(10)}, c.rate_share);
        auto l = controller->current();
        limiter.set_limit(l.max, l.window);
        break;
      }
      case rate_mode::fixed: limiter.set_limit(c.rate_max, c.rate_window); break;
      case rate_mode::unlimited: limiter.set_limit(0, c.rate_window); break;
    }
  }

  static dispatcher::options make_dispatcher_options(const archive_config& c) {
    dispatcher::options o;
    o.max_retries = c.max_retries;
    o.max_inputs = c.batch_size;
    o.max_pairs = c.max_pairs_per_request;
    o.seed = c.seed ? c.seed : std::random_device{}();
    o.max_retry_after = c.max_retry_after;
    o.throttle_timeout = c.throttle_timeout;
    o.unreachable_after = std::max(c.connections, 2);  // every connection tried (twice with one)
    return o;
  }

  // pair_sink: the parser's output.
  void on_pair(pair_id p, std::uint64_t line) override {
    if (previous || counting_only) {
      if (!admit_rare(p, line)) return;
    } else {
      ++totals.input_pairs;
    }
    if (spill) {  // first pass of a partitioned file: only sort the pair into its partition
      spill->write(p.from, p.to, line);
      return;
    }
    staged_pairs[staged] = p;
    staged_lines[staged] = line;
    if (++staged == stage_size) add_staged();
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
                        : out.category == "already_absent" ? settled_outcome::already_absent
                                                           : settled_outcome::archived;
    journal->settled(o, failed ? out.category : std::string_view{}, lines);
  }

  // A request is about to carry these pairs: journal them as sent (a resend
  // of the same pairs needs no new record).
  void on_send(const work_item& item) {
    if (!journal || item.resend) return;
    journal->sent(item.lines);
  }

  void flush_journal() {
    if (journal) journal->flush(clock::now());
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

  void take_one_batch() {
    sync_caps();
    std::vector<pair_id> batch;
    std::vector<std::uint64_t> batch_lines;
    if (grouper.take_batch(batch, batch_lines)) {
      ++totals.batches;
      disp.add(std::move(batch), std::move(batch_lines));
    }
  }
  void flush_grouper() {
    add_staged();
    while (!grouper.empty()) take_one_batch();
  }
  // After a "batch too large" the dispatcher halves its caps; the grouper follows.
  void sync_caps() {
    if (grouper.max_inputs() != disp.max_inputs() || grouper.max_pairs() != disp.max_pairs())
      grouper.set_limits(disp.max_inputs(), disp.max_pairs());
  }

  bool finished() const { return reading_done && disp.queued() == 0 && disp.in_flight() == 0; }

  void stop(stop_reason why, std::string message) {
    disp.stop(why, std::move(message));
    if (stdin_desc) {
      boost::system::error_code ec;
      stdin_desc->cancel(ec);
    }
    wake.notify_all();
  }

  const archive_config& cfg;
  const job_options& opt;
  asio::io_context& ioc;
  counters totals;
  failures_file failures;
  pair_grouper grouper;
  dispatcher disp;
  window_limiter limiter;
  std::optional<rate_controller> controller;
  notifier wake;
  std::string input_name;
  std::string input_columns;  // report_context::input_columns
  std::string input_hint;     // report_context::input_hint
  bool reading_done = false;
  bool counting_only = false;
  std::uint64_t rejects_printed = 0;
  asio::posix::stream_descriptor* stdin_desc = nullptr;
  time_point last_input{};
  std::optional<std::int64_t> daily_remaining;  // last X-HubSpot-RateLimit-Daily-Remaining seen
  static constexpr std::size_t stage_size = 64;
  pair_id staged_pairs[stage_size];
  std::uint64_t staged_lines[stage_size];
  std::size_t staged = 0;
  class spill_files* spill = nullptr;  // set during the first pass over a partitioned file
  // Journal (null without --journal): what earlier runs settled, and the writer.
  const journal_state* previous = nullptr;
  journal_writer* journal = nullptr;
  std::vector<std::function<void()>> aborters;  // close every session's socket (drain timeout)
  int active_sessions = 0;
  std::uint64_t acquired = 0;                   // limiter slots taken so far
  std::uint64_t input_bytes_read = 0;           // for job_progress
  std::uint64_t input_bytes_total = 0;          // size of a regular input file, else 0
};

// ---------------------------------------------------------------- input

// Input from a pipe may pause: after cfg.stdin_linger without new bytes,
// waiting pairs go out even though the group window is not full.
asio::awaitable<void> linger_flusher(job_state& j) {
  asio::steady_timer timer(j.ioc);
  while (!j.reading_done && j.disp.stopped() == stop_reason::none) {
    co_await j.wake.wait(timer, clock::now() + j.cfg.stdin_linger);
    // Only when the connections have nothing else to send: flushing early
    // would cut groups short that more input could still fill.
    if (!j.grouper.empty() && j.disp.queued() == 0 && clock::now() - j.last_input >= j.cfg.stdin_linger) {
      j.flush_grouper();
      j.wake.notify_all();
    }
  }
}

// Second pass over a partitioned file: the pairs, partition by partition,
// into the grouper (input lines, rejections and resends were counted in the
// first pass). After a stop the rest is only counted, as pending.
//
// A partition that fits in memory (at most a group window of records) is read
// whole and reordered so each from-id's records are contiguous (from-ids in
// order of first appearance, to-ids in input order, engine/runs.hpp): its
// pairs then reach the grouper one run per from-id, with no lookup in the
// grouper's index (hashing every pair into a table bigger than the cache was
// the largest user-space cost of the unthrottled client, bench/results). A
// bigger one (an input far beyond 1024 windows, or lines much shorter than
// the estimate) is streamed through the index in blocks.
asio::awaitable<void> feed_partitions(job_state& j, spill_files& spill, asio::steady_timer& timer,
                                      std::size_t high_water) {
  using record = spill_files::record;
  std::vector<record> recs;
  std::vector<record> scratch;
  run_order order;
  constexpr std::size_t block = 4096;
  j.grouper.begin_runs();
  for (std::size_t i = 0; i < spill.count(); ++i) {
    std::size_t records = 0;
    std::FILE* f = spill.open_for_reading(i, records);
    const bool grouped = records <= std::min(std::max<std::size_t>(j.cfg.group_window, block), run_order::max_size);
    recs.resize(grouped ? records : block);
    if (grouped) {
      if (std::fread(recs.data(), sizeof(record), recs.size(), f) != recs.size())
        throw std::runtime_error(std::string("cannot read a temporary partition: ") +
                                 (std::ferror(f) ? std::strerror(errno) : "it is shorter than written"));
      order.apply(recs, scratch, [](const record& r) { return r.from; });
    }
    // A block at a time: the next of recs[] (grouped), or the next read.
    for (std::size_t fed = 0;;) {
      while (j.disp.stopped() == stop_reason::none && j.disp.queued() >= high_water)
        co_await j.wake.wait(timer, time_point::max());
      const record* first = recs.data();
      std::size_t n = 0;
      if (grouped) {
        first += fed;
        n = std::min(block, recs.size() - fed);
        fed += n;
      } else {
        n = std::fread(recs.data(), sizeof(record), recs.size(), f);
      }
      if (n == 0) break;
      for (const record* r = first; r != first + n; ++r) {
        if (j.disp.stopped() != stop_reason::none) {
          j.count_pending(pair_id{r->from, r->to}, r->line);
          continue;
        }
        j.staged_pairs[j.staged] = pair_id{r->from, r->to};
        j.staged_lines[j.staged] = r->line;
        if (++j.staged == job_state::stage_size) j.add_staged(grouped);
      }
      j.add_staged(grouped);
      j.flush_journal();
      j.wake.notify_all();
      co_await asio::post(j.ioc, asio::use_awaitable);
    }
    if (std::ferror(f)) throw std::runtime_error(std::string("cannot read a temporary partition: ") + std::strerror(errno));
  }
}

// Reads one input to its end (or until a stop) through the gzip-aware decoder.
asio::awaitable<void> feed_one(job_state& j, const std::string& path) {
  j.input_name = path == "-" ? "<stdin>" : path;
  int fd = 0;
  if (path != "-") {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open input '" + path + "': " + std::strerror(errno));
  }
  struct stat st {};
  ::fstat(fd, &st);
  bool regular = S_ISREG(st.st_mode);
  const io::input_watch watch(fd);  // a file appended to or truncated meanwhile (issue 7)
  std::uint64_t bytes_read = 0;
  io::input_format format = j.cfg.format ? *j.cfg.format : io::input_format_for_path(path);
  io::pair_parser parser(format, input_options(j.cfg));
  io::input_decoder decoder(j.input_name);
  std::vector<char> buf(1 << 16);
  asio::steady_timer timer(j.ioc);
  // Enough ready batches to keep every connection busy; beyond that, stop reading.
  const std::size_t high_water = static_cast<std::size_t>(j.cfg.connections) * 4 + 4;

  // A file that cannot fit in one window is read twice: first split by
  // from-id into partitions of about half a window, then fed partition by
  // partition (see spill_files). Line lengths vary, so 16 bytes a line is
  // taken as a cautious estimate of the number of pairs.
  std::optional<spill_files> spill;
  if (regular && j.cfg.partition_input) {
    std::size_t estimate = static_cast<std::size_t>(st.st_size) / 16;
    std::size_t parts = (2 * estimate + j.cfg.group_window - 1) / std::max<std::size_t>(1, j.cfg.group_window);
    if (parts > 1) {
      spill.emplace(std::min<std::size_t>(parts, 1024));
      j.spill = &*spill;
    }
  }

  std::optional<asio::posix::stream_descriptor> desc;
  if (!regular) {
    desc.emplace(j.ioc, ::dup(fd));
    j.stdin_desc = &*desc;
    asio::co_spawn(j.ioc, linger_flusher(j), asio::detached);
  }
  for (;;) {
    if (j.disp.stopped() != stop_reason::none) {
      if (!regular) break;  // a pipe may never end: stop reading it
      if (!j.spill) j.counting_only = true;  // (the first pass only counts anyway)
    }
    while (!j.counting_only && j.disp.queued() >= high_water && j.disp.stopped() == stop_reason::none)
      co_await j.wake.wait(timer, time_point::max());
    if (j.disp.stopped() != stop_reason::none && !regular) break;
    std::size_t n = 0;
    if (regular) {
      ssize_t r = ::read(fd, buf.data(), buf.size());
      if (r < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error("cannot read input '" + path + "': " + std::strerror(errno));
      }
      n = static_cast<std::size_t>(r);
    } else {
      auto [ec, r] = co_await desc->async_read_some(asio::buffer(buf), use_tuple);
      if (ec == asio::error::operation_aborted) continue;  // stop() cancelled the read
      if (ec && ec != asio::error::eof)
        throw std::runtime_error("cannot read input '" + j.input_name + "': " + ec.message());
      n = r;
    }
    if (n == 0) break;
    j.input_bytes_read += n;
    bytes_read += n;
    j.last_input = clock::now();
    decoder.feed(std::string_view(buf.data(), n), parser, j);
    j.add_staged();
    j.flush_journal();
    j.wake.notify_all();
    if (regular) co_await asio::post(j.ioc, asio::use_awaitable);  // let sessions run between chunks
  }
  const std::string change = watch.changed(fd, bytes_read);  // "" for pipes
  if (!change.empty()) fmt::print(stderr, "hubbatch: warning: {}: {}\n", j.input_name, change);
  // A pipe cut short by a stop may end mid-member: only a complete read is checked.
  if (regular || j.disp.stopped() == stop_reason::none) decoder.finish(parser, j);
  parser.finish(j, change.empty());  // a cut last line is rejected, never sent
  j.note_input(path, parser);
  j.add_staged();
  j.flush_journal();
  if (fd != 0) ::close(fd);
  if (spill) {
    j.spill = nullptr;
    co_await feed_partitions(j, *spill, timer, high_water);
  }
  j.stdin_desc = nullptr;
}

// Reads cfg.input, then cfg.extra_inputs in order (line numbers restart at
// each file), and flushes what is left in the group window.
asio::awaitable<void> feed_input(job_state& j) {
  std::vector<std::string> paths{j.cfg.input};
  paths.insert(paths.end(), j.cfg.extra_inputs.begin(), j.cfg.extra_inputs.end());
  for (const auto& p : paths) {  // total size for the progress estimate; 0 if any is not a regular file
    struct stat st {};
    if (p == "-" || ::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      j.input_bytes_total = 0;
      break;
    }
    j.input_bytes_total += static_cast<std::uint64_t>(st.st_size);
  }
  for (const auto& p : paths) {
    if (j.disp.stopped() != stop_reason::none && p == "-") break;
    co_await feed_one(j, p);
  }
  j.flush_grouper();
  j.reading_done = true;
  j.wake.notify_all();
}

// Ends the run on --deadline, and after any stop gives in-flight requests
// cfg.drain_timeout to finish before cutting their connections (those
// pairs then end pending, to be resent by a resumed run).
asio::awaitable<void> stop_watcher(job_state& j, time_point started) {
  asio::steady_timer timer(j.ioc);
  time_point deadline = j.cfg.deadline > duration::zero() ? started + j.cfg.deadline : time_point::max();
  for (;;) {
    if (j.disp.stopped() != stop_reason::none) break;
    if (j.reading_done && j.active_sessions == 0) co_return;
    if (clock::now() >= deadline) {
      j.stop(stop_reason::deadline, "--deadline reached");
      break;
    }
    co_await j.wake.wait(timer, deadline);
  }
  if (j.stdin_desc) {
    boost::system::error_code ec;
    j.stdin_desc->cancel(ec);
  }
  j.wake.notify_all();
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
    const double window_s = std::chrono::duration<double>(j.limiter.window()).count();
    job_progress p{j.totals, j.input_bytes_read, j.input_bytes_total, j.reading_done,
                   std::chrono::duration<double>(clock::now() - started).count(),
                   j.limiter.max() > 0 && window_s > 0 ? j.limiter.max() / window_s : 0};
    j.opt.on_progress(p);
  }
}

// ---------------------------------------------------------------- sessions

template <bool Tls>
using stream_t = std::conditional_t<Tls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

template <bool Tls>
class session {
 public:
  session(job_state& j, const endpoint_url& url, asio::ssl::context* tls_ctx, std::string target,
          const endpoint_url* proxy = nullptr)
      : j_(j), url_(url), proxy_(proxy), tls_ctx_(tls_ctx), timer_(j.ioc), resolver_(j.ioc) {
    // The request head, written by hand up to its Content-Length value: the
    // same for every request of the job (target and host are validated, the
    // token is visible ASCII: nothing here needs escaping).
    bool default_port = url.port == (Tls ? "443" : "80");
    std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
    if (!default_port) host += ":" + url.port;
    head_ = "POST " + target + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer ";
    head_ += j.opt.token;
    head_ += "\r\nContent-Type: application/json\r\nAccept: application/json\r\nUser-Agent: hubbatch/";
    head_ += HUBBATCH_VERSION;
    head_ += "\r\nContent-Length: ";
  }

  // head_ and wire_ hold "Bearer TOKEN": overwrite them before their memory
  // is freed (io/secret.hpp). Each request goes out as one buffer, so
  // Beast's ssl_stream never copies it into a buffer of its own.
  ~session() {
    io::wipe(head_);
    io::wipe(wire_);
  }
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  asio::awaitable<void> run() {
    j_.aborters.push_back([this] { abort(); });
    ++j_.active_sessions;
    struct leave {
      job_state& j;
      ~leave() {
        --j.active_sessions;
        j.wake.notify_all();
      }
    } on_exit{j_};
    for (;;) {
      std::optional<work_item> item = co_await next_item();
      if (!item) break;
      if (!co_await wait_for_slot()) {
        j_.disp.give_back(std::move(*item));
        break;
      }
      // Checked in the same step as taking the slot, so concurrent sessions
      // cannot overshoot the budget.
      if (j_.cfg.max_requests && j_.acquired >= j_.cfg.max_requests) {
        j_.stop(stop_reason::request_budget,
                "--max-requests " + std::to_string(j_.cfg.max_requests) + " reached");
        j_.disp.give_back(std::move(*item));
        break;
      }
      auto now = clock::now();
      // What the server can count of ours when it answers: everything
      // occupying a slot now, plus everything sent after (see attempt()).
      own_base_ = j_.limiter.occupied(now);
      own_seq_ = j_.acquired;
      j_.limiter.acquire(now);
      ++j_.acquired;
      co_await attempt(std::move(*item));
      j_.sync_caps();
      j_.wake.notify_all();
    }
    close();
  }

 private:
  // The next batch to send, or nullopt when the job is finished or stopping.
  asio::awaitable<std::optional<work_item>> next_item() {
    for (;;) {
      if (j_.disp.stopped() != stop_reason::none) co_return std::nullopt;
      auto now = clock::now();
      if (auto item = j_.disp.take(now)) co_return item;
      if (j_.finished()) {
        j_.wake.notify_all();
        co_return std::nullopt;
      }
      co_await j_.wake.wait(timer_, j_.disp.next_due());
    }
  }

  // Waits until the limiter and any 429 pause allow a request; false if stopping.
  asio::awaitable<bool> wait_for_slot() {
    for (;;) {
      if (j_.disp.stopped() != stop_reason::none) co_return false;
      auto now = clock::now();
      time_point t = std::max(j_.limiter.ready_at(now), j_.disp.rate_pause_until());
      if (t <= now) co_return true;
      co_await j_.wake.wait(timer_, t);
    }
  }

  asio::awaitable<boost::system::error_code> connect() {
    close();
    tcp_connected_ = false;
    const endpoint_url& first_hop = proxy_ ? *proxy_ : url_;
    auto [rec, results] = co_await resolver_.async_resolve(first_hop.host, first_hop.port, use_tuple);
    if (rec) co_return rec;
    if constexpr (Tls) stream_.emplace(j_.ioc, *tls_ctx_);
    else stream_.emplace(j_.ioc);
    auto& tcp_layer = beast::get_lowest_layer(*stream_);
    tcp_layer.expires_after(j_.cfg.connect_timeout);
    auto [cec, ep] = co_await tcp_layer.async_connect(results, use_tuple);
    if (cec) co_return cec;
    tcp_connected_ = true;
    j_.disp.note_connected();
    tcp_layer.socket().set_option(tcp::no_delay(true));
    if (proxy_) {
      if (auto ec = co_await proxy_connect(tcp_layer)) co_return ec;
    }
    if constexpr (Tls) {
      if (!io::set_client_peer_name(stream_->native_handle(), url_.host))
        co_return asio::error::make_error_code(asio::error::invalid_argument);
      tcp_layer.expires_after(j_.cfg.handshake_timeout);
      auto [hec] = co_await stream_->async_handshake(asio::ssl::stream_base::client, use_tuple);
      if (hec) co_return io::explain_handshake_error(stream_->native_handle(), hec);  // names the cause
    }
    ++j_.totals.connections_opened;
    co_return boost::system::error_code{};
  }

  // HTTP CONNECT through the proxy: afterwards the socket is a tunnel to the
  // API host, and TLS (verified against the API host's name) runs inside it.
  asio::awaitable<boost::system::error_code> proxy_connect(beast::tcp_stream& tcp_layer) {
    std::string authority = (url_.host.find(':') != std::string::npos ? "[" + url_.host + "]" : url_.host) + ":" +
                            url_.port;
    http::request<http::empty_body> req{http::verb::connect, authority, 11};
    req.set(http::field::host, authority);
    req.set(http::field::user_agent, std::string("hubbatch/") + HUBBATCH_VERSION);
    if (!proxy_->basic_credentials.empty()) {
      std::string value = "Basic " + proxy_->basic_credentials;
      req.set(http::field::proxy_authorization, value);
      io::wipe(value);
    }
    struct wipe_credentials {  // the header's copy, however this returns
      http::request<http::empty_body>& r;
      ~wipe_credentials() { wipe_field(r, http::field::proxy_authorization); }
    } wipe_req{req};
    auto [wec, wn] = co_await http::async_write(tcp_layer, req, use_tuple);
    if (wec) co_return wec;
    http::response_parser<http::empty_body> res;
    res.skip(true);  // a CONNECT answer has no body
    beast::flat_buffer buf;
    auto [rec, rn] = co_await http::async_read_header(tcp_layer, buf, res, use_tuple);
    if (rec) co_return rec;
    if (res.get().result_int() / 100 != 2) {
      const unsigned status = res.get().result_int();
      std::string_view why;
      if (status == 407)
        why = proxy_->basic_credentials.empty() ? " (the proxy wants credentials: http://USER:PASSWORD@HOST:PORT)"
                                                : " (the proxy refused the credentials)";
      spdlog::warn("proxy {}:{} refused CONNECT {}: HTTP {}{}", proxy_->host, proxy_->port, authority, status, why);
      co_return asio::error::make_error_code(asio::error::connection_refused);
    }
    if (buf.size() != 0) co_return asio::error::make_error_code(asio::error::invalid_argument);  // spoke first
    co_return boost::system::error_code{};
  }

  // Drain timeout: fail the request in progress; its coroutine then cleans up.
  void abort() {
    if (!stream_) return;
    boost::system::error_code ec;
    beast::get_lowest_layer(*stream_).socket().close(ec);
  }

  void close() {
    if (!stream_) return;
    boost::system::error_code ec;
    beast::get_lowest_layer(*stream_).socket().close(ec);
    stream_.reset();
    buffer_.consume(buffer_.size());  // bytes of the old connection must not be read as the next response
  }

  void transport_failure(work_item&& item, std::string what, const boost::system::error_code& ec, bool written,
                         attempt_result::kind kind = attempt_result::kind::transport_error) {
    close();
    if (written) j_.limiter.complete(clock::now());
    else j_.limiter.cancel();
    error_text_ = what + ": " + ec.message();
    spdlog::debug("transport error for a batch of {} pairs: {}", item.pairs.size(), error_text_);
    attempt_result r;
    r.what = kind;
    r.error = error_text_;
    r.request_written = written;
    j_.disp.on_result(std::move(item), r, clock::now());
    j_.flush_journal();
  }

  asio::awaitable<void> attempt(work_item item) {
    if (!stream_) {
      auto ec = co_await connect();
      if (ec) {
        // A certificate that fails verification (or a server below TLS 1.2),
        // and a host that cannot be resolved or connected to, are kinds of
        // their own: the dispatcher decides whether they stop the run.
        const auto kind = ec.category() == io::tls_category() ? attempt_result::kind::tls_failure
                          : !tcp_connected_                   ? attempt_result::kind::connect_error
                                                              : attempt_result::kind::transport_error;
        transport_failure(std::move(item), "connect to " + url_.host + ":" + url_.port, ec, false, kind);
        co_return;
      }
    }
    body_.clear();
    codec::encode_archive_body(item.pairs, body_);
    wire_.assign(head_);
    wire_ += std::to_string(body_.size());
    wire_ += "\r\n\r\n";
    wire_ += body_;
    j_.on_send(item);
    ++j_.totals.requests;
    if (item.resend) ++j_.totals.retries;
    j_.totals.sent_pairs += item.pairs.size();
    j_.totals.sent_inputs += codec::count_inputs(item.pairs);

    auto started = clock::now();
    auto& tcp_layer = beast::get_lowest_layer(*stream_);
    tcp_layer.expires_after(j_.cfg.request_timeout);
    auto [wec, wn] = co_await asio::async_write(*stream_, asio::buffer(wire_), use_tuple);
    if (wec) {
      // Some bytes may have reached the server (e.g. a stale keep-alive
      // connection reset mid-write): count the slot, resend later.
      transport_failure(std::move(item), "write", wec, true);
      co_return;
    }
    parser_.emplace();
    parser_->body_limit(j_.cfg.max_response_bytes);
    parser_->header_limit(response_header_limit);
    auto [rec, rn] = co_await http::async_read(*stream_, buffer_, *parser_, use_tuple);
    if (rec) {
      transport_failure(std::move(item), "read response", rec, true);
      co_return;
    }
    auto now = clock::now();
    tcp_layer.expires_never();
    // Our requests the server may have counted in its window when it
    // answered: those occupying a slot when this one was sent plus all sent
    // since (this one included). An upper bound, so the estimate of other
    // clients' use never comes out too high; the limiter's own occupied(now)
    // can miss requests that left our window but not yet the server's.
    int own_occupied = own_base_ + static_cast<int>(j_.acquired - own_seq_);
    j_.limiter.complete(now);
    j_.totals.latency_ms.add(std::chrono::duration<double, std::milli>(now - started).count());

    auto& res = parser_->get();
    headers_ = {};
    for (const auto& f : res) headers_.offer(f.name_string(), f.value());
    decoder_.decode(res.body(), decoded_);
    codec::redact(decoded_, j_.opt.token);  // a server echoing the token must not get it logged (issue 7)
    if (j_.controller) {
      bool changed = j_.controller->on_response(headers_.max.value_or(-1), headers_.remaining.value_or(-1),
                                                headers_.interval_ms.value_or(-1), own_occupied, now);
      // A 429 for the rolling window is the one signal that the limit is too
      // high even when Remaining (clamped at 0) cannot say by how much.
      if (res.result_int() == 429 && decoded_.policy_name != "DAILY")
        changed = j_.controller->on_rate_limited(own_occupied, now) || changed;
      if (changed) {
        auto l = j_.controller->current();
        j_.limiter.set_limit(l.max, l.window);
      }
    }
    if (headers_.daily_remaining) {
      j_.daily_remaining = *headers_.daily_remaining;
      // Budget manners: leave the rest of the day's budget to the portal's other integrations.
      if (j_.cfg.daily_reserve >= 0 && *headers_.daily_remaining <= j_.cfg.daily_reserve)
        j_.stop(stop_reason::daily_reserve, "X-HubSpot-RateLimit-Daily-Remaining is " +
                                                std::to_string(*headers_.daily_remaining) + ", at or below --daily-reserve " +
                                                std::to_string(j_.cfg.daily_reserve));
    }
    bool keep = res.keep_alive();
    attempt_result r;
    r.status = static_cast<int>(res.result_int());
    r.body = &decoded_;
    r.headers = &headers_;
    const std::size_t pairs = item.pairs.size();
    j_.disp.on_result(std::move(item), r, now);
    log_response(r.status, pairs);
    j_.flush_journal();
    if (!keep || buffer_.size() != 0) close();  // bytes beyond the response: unsolicited, never a later answer
  }

  // Responses worth a log line carry HubSpot's correlation id, for support
  // tickets. Called after the dispatcher decided: a response it resends is
  // news (info, quiet with --quiet), not a problem.
  void log_response(int status, std::size_t pairs) const {
    if (status < 400 && decoded_.num_errors == 0) return;
    const std::string& id = !headers_.correlation_id.empty() ? headers_.correlation_id : decoded_.correlation_id;
    const int retry = j_.disp.last_retry();
    auto level = status == 429 || status < 400 ? spdlog::level::debug
                 : retry > 0                   ? (j_.opt.quiet ? spdlog::level::debug : spdlog::level::info)
                                               : spdlog::level::warn;
    if (!spdlog::should_log(level)) return;
    std::string what = !decoded_.category.empty() ? decoded_.category
                       : !decoded_.message.empty() ? decoded_.message
                                                   : std::string(codec::to_string(decoded_.kind)) + " body";
    if (status == 429 && !decoded_.policy_name.empty()) what += " " + decoded_.policy_name;
    if (status < 400) what = fmt::format("{} error(s) in the response", decoded_.num_errors);
    if (retry > 0 && status != 429)
      what += fmt::format("; retrying (retry {} of {})", retry, j_.cfg.max_retries);
    spdlog::log(level, "HTTP {} for a batch of {} pairs: {} correlation_id={}", status, pairs, what,
                id.empty() ? "-" : id);
  }

  job_state& j_;
  const endpoint_url& url_;
  const endpoint_url* proxy_;  // HTTP CONNECT proxy, or null for a direct connection
  asio::ssl::context* tls_ctx_;
  asio::steady_timer timer_;
  tcp::resolver resolver_;
  std::optional<stream_t<Tls>> stream_;
  // Bytes read but not yet parsed: a response head (at most
  // response_header_limit) or a chunk header plus one read's worth. Beast
  // puts no limit on chunk extensions, so without this cap a server sending
  // "1;x=eeee…" forever would grow the buffer until the request deadline.
  static constexpr std::size_t response_header_limit = 64 * 1024;
  beast::flat_buffer buffer_{4 * response_header_limit};
  std::string head_;  // the request head up to "Content-Length: " (holds the token)
  std::string body_;  // the current request's JSON body
  std::string wire_;  // head, length, body: the bytes of the current request (holds the token)
  std::optional<http::response_parser<http::string_body>> parser_;
  codec::response_decoder decoder_;
  codec::decoded_response decoded_;
  codec::rate_limit_headers headers_;
  std::string error_text_;
  bool tcp_connected_ = false;  // the last connect() got past TCP connect (the host is reachable)
  int own_base_ = 0;          // limiter.occupied() just before this request took its slot
  std::uint64_t own_seq_ = 0;  // job_state::acquired just before this request took its slot
};

void rethrow_if(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

int exit_code_for(const counters& c, stop_reason stop) {
  if (stop == stop_reason::auth) return 4;
  if (stop == stop_reason::configuration || stop == stop_reason::tls || stop == stop_reason::unreachable) return 2;
  if (c.pending_pairs > 0) return 3;
  if (c.failed_pairs > 0 || c.rejected_pairs > 0) return 1;
  return 0;
}

}  // namespace

job_result run_job(const archive_config& cfg, const job_options& opt) {
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
    if (extra == "-" || cfg.input == "-") throw std::runtime_error("stdin (-) cannot be one of several inputs");
    if (::access(extra.c_str(), R_OK) != 0)
      throw std::runtime_error("cannot read input '" + extra + "': " + std::strerror(errno));
  }
  // The journal's identity and line numbers describe one file.
  if (!cfg.journal_path.empty() && !cfg.extra_inputs.empty())
    throw std::runtime_error("a journal (and --resume) needs a single --input; give one file per job");

  // The journal: refuse to silently redo or mix up jobs (README "Journals and resuming").
  std::optional<journal_state> previous;
  std::optional<journal_writer> journal;
  if (!cfg.journal_path.empty()) {
    if (cfg.input == "-") throw std::runtime_error("a journal needs --input FILE (stdin cannot be resumed)");
    job_identity id = identify_job(cfg.input, cfg.from_type, cfg.to_type, cfg.api_version);
    auto existing = read_journal(cfg.journal_path, line_number_bound(cfg.input));
    if (existing && existing->valid_bytes == 0) existing.reset();  // created, never written
    if (existing && !cfg.restart) {
      const std::string diff = describe_difference(existing->identity, id);
      const std::string own_journal =
          "give this input its own --report (or --journal), or --restart to discard that journal";
      if (!diff.empty() && cfg.journal_automatic && existing->finished) {
        // REPORT.journal of a finished job on another input (say, its failures
        // file fed back with the same --report): nothing in it is left to
        // resume, and the report it stands beside is being replaced too.
        spdlog::info("journal '{}' holds a finished job on another input: starting a new job in it",
                     cfg.journal_path);
      } else if (!diff.empty()) {
        throw std::runtime_error("journal '" + cfg.journal_path + "' belongs to " +
                                 (existing->finished ? "a finished" : "an unfinished") + " job on another input (" +
                                 diff + "): to continue that job, rerun it with its own input and --resume; to run " +
                                 "this input as a new job, " + own_journal);
      } else if (!cfg.resume) {
        throw std::runtime_error("journal '" + cfg.journal_path + "' exists from " +
                                 (existing->finished ? "a finished" : "an unfinished") +
                                 " run of this job: rerun with --resume to continue it, or --restart to start over");
      } else {
        previous = std::move(existing);
      }
    }
    journal.emplace(cfg.journal_path, id, previous ? &*previous : nullptr, cfg.journal_sync_interval);
    journal->run_started();
  }

  asio::io_context ioc(1);
  job_state j(cfg, opt, ioc);
  j.input_name = cfg.input == "-" ? "<stdin>" : cfg.input;
  j.previous = previous ? &*previous : nullptr;
  j.journal = journal ? &*journal : nullptr;
  auto started = clock::now();
  std::string target = archive_target(cfg.api_version, cfg.from_type, cfg.to_type);

  std::exception_ptr failure;
  asio::signal_set signals(ioc);
  int live_tasks = 0;
  // Spawns a task; when the last one ends, the signal wait is dropped so run() returns.
  auto spawn = [&](asio::awaitable<void> task) {
    ++live_tasks;
    asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e) {
      if (e && !failure) {
        failure = e;
        j.stop(stop_reason::interrupted, "internal error");
      }
      if (--live_tasks == 0) {
        boost::system::error_code ec;
        signals.cancel(ec);
      }
      j.wake.notify_all();  // the progress ticker ends with the last other task
    });
  };
  spawn(feed_input(j));
  spawn(stop_watcher(j, started));
  if (opt.on_progress) spawn(progress_ticker(j, started, live_tasks));

  std::vector<std::unique_ptr<session<true>>> tls_sessions;
  std::vector<std::unique_ptr<session<false>>> plain_sessions;
  for (int i = 0; i < cfg.connections; ++i) {
    if (url->tls) {
      tls_sessions.push_back(std::make_unique<session<true>>(j, *url, &*tls_ctx, target, via));
      spawn(tls_sessions.back()->run());
    } else {
      plain_sessions.push_back(std::make_unique<session<false>>(j, *url, nullptr, target, via));
      spawn(plain_sessions.back()->run());
    }
  }

  std::function<void(const boost::system::error_code&, int)> on_signal;
  if (opt.handle_signals) {
    signals.add(SIGINT);
    signals.add(SIGTERM);
    on_signal = [&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (j.disp.stopped() == stop_reason::interrupted) std::_Exit(3);  // second signal: leave now
      spdlog::warn("{} received: finishing in-flight requests, then stopping (again to exit now)",
                   sig == SIGINT ? "SIGINT" : "SIGTERM");
      j.stop(stop_reason::interrupted, sig == SIGINT ? "interrupted by SIGINT" : "terminated by SIGTERM");
      signals.async_wait(on_signal);
    };
    signals.async_wait(on_signal);
  }
  ioc.run();
  rethrow_if(failure);

  // Whatever is still waiting after a stop is pending.
  j.flush_grouper();
  j.disp.drain_pending();
  if (journal) journal->run_ended(j.totals.pending_pairs == 0);

  job_result out;
  out.totals = j.totals;
  out.required_scopes = j.disp.required_scopes();
  out.stop_message = j.disp.stop_message();
  auto& ctx = out.context;
  ctx.from_type = cfg.from_type;
  ctx.to_type = cfg.to_type;
  ctx.api_version = cfg.api_version;
  ctx.base_url = cfg.base_url;
  ctx.effective_rate_max = j.limiter.max();
  ctx.effective_rate_window_s = std::chrono::duration<double>(j.limiter.window()).count();
  ctx.elapsed_s = std::chrono::duration<double>(clock::now() - started).count();
  ctx.stop_reason = to_string(j.disp.stopped());
  ctx.input_columns = j.input_columns;
  ctx.input_hint = j.input_hint;
  ctx.exit_code = exit_code_for(out.totals, j.disp.stopped());
  // A zero-byte or header-only input is almost always a failed upstream
  // export: say so, unless the user expects it (a resumed job's input holds
  // pairs, all of them skipped).
  const auto& c = out.totals;
  if (ctx.exit_code == 0 && c.input_pairs == 0 && c.skipped_pairs == 0 && !cfg.allow_empty) {
    ctx.exit_code = 1;
    ctx.stop_reason = "empty_input";
    out.stop_message = "the input holds no pairs (empty, or a header only): usually an upstream export that failed; "
                       "--allow-empty accepts it";
  }
  if (journal) {
    job_totals t;
    t.journal_path = cfg.journal_path;
    t.runs = previous ? previous->runs + 1 : 1;
    t.archived_pairs = c.archived_pairs + (previous ? previous->archived : 0);
    t.already_absent_pairs = c.already_absent_pairs + (previous ? previous->already_absent : 0);
    // A retried pair's earlier failure is replaced by this run's outcome.
    t.failed_pairs = c.failed_pairs + (previous ? previous->failed - c.retried_failed_pairs : 0);
    t.rejected_pairs = c.rejected_pairs + (previous ? previous->rejected : 0);
    t.duplicate_pairs = c.duplicate_pairs + (previous ? previous->duplicate : 0);
    t.pending_pairs = c.pending_pairs;
    t.input_pairs = t.archived_pairs + t.failed_pairs + t.rejected_pairs + t.duplicate_pairs + t.pending_pairs;
    ctx.totals = t;
    // The exit code speaks for the whole job: failures of earlier runs still count.
    if (ctx.exit_code == 0 && (t.failed_pairs > 0 || t.rejected_pairs > 0)) ctx.exit_code = 1;
  }
  out.invariant_error = out.totals.check();
  return out;
}

}  // namespace hubbatch::engine
