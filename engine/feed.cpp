// The "input" step: the feeder coroutine reads each --input (a file with
// read(2), a pipe asynchronously with an idle linger) through the gzip-aware
// decoder into job_state's pair_sink, splitting a file larger than the group
// window into partitions first (engine/partitions.hpp).
#include "engine/feed.hpp"

#include "engine/runs.hpp"
#include "io/input_decoder.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace hubbatch::engine {
namespace {

namespace asio = boost::asio;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

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
    }
  }
}

// Second pass over a partitioned file: the pairs, partition by partition,
// into the grouper (input lines, rejections and resends were counted in the
// first pass). After a stop the rest is only counted, as pending.
//
// A partition that fits in memory (at most a group window of records) is read
// whole and reordered so each from-id's records are contiguous (from-ids in
// order of first appearance, to-ids in input order, engine/runs.hpp; each
// type of a from-id is a run of its own, see record::run_key): its pairs then
// reach the grouper one run per from-id and type, with no lookup in the
// grouper's index (hashing every pair into a table bigger than the cache was
// the largest user-space cost of the unthrottled client, bench/results). A
// bigger one (an input far beyond 1024 windows, or lines much shorter than
// the estimate) is streamed through the index in blocks.
asio::awaitable<void> feed_partitions(job_state& j, partition_files& spill, asio::steady_timer& timer) {
  using record = partition_files::record;
  std::vector<record> recs;
  std::vector<record> scratch;
  run_order order;
  constexpr std::size_t block = 4096;
  j.grouper.begin_runs();
  for (std::size_t i = 0; i < spill.count(); ++i) {
    const std::size_t records = spill.open_for_reading(i);
    const bool grouped = records <= std::min(std::max<std::size_t>(j.cfg.group_window, block), run_order::max_size);
    recs.resize(grouped ? records : block);
    if (grouped) {
      if (spill.read(recs.data(), recs.size()) != recs.size())
        throw std::runtime_error("cannot read a temporary partition: it is shorter than written");
      order.apply(recs, scratch, [](const record& r) { return r.run_key(); });
    }
    // A block at a time: the next of recs[] (grouped), or the next read.
    for (std::size_t fed = 0;;) {
      while (j.disp.stopped() == stop_reason::none && j.disp.queued() >= j.queue_high_water())
        co_await j.space.wait(timer, time_point::max());
      const record* first = recs.data();
      std::size_t n = 0;
      if (grouped) {
        first += fed;
        n = std::min(block, recs.size() - fed);
        fed += n;
      } else {
        n = spill.read(recs.data(), recs.size());
      }
      if (n == 0) break;
      for (const record* r = first; r != first + n; ++r) {
        if (j.disp.stopped() != stop_reason::none) {
          j.count_pending(r->pair(), r->line);
          continue;
        }
        j.staged_pairs[j.staged] = r->pair();
        j.staged_lines[j.staged] = r->line;
        if (++j.staged == job_state::stage_size) j.add_staged(grouped);
      }
      j.add_staged(grouped);
      j.flush_journal();
      co_await asio::post(j.ioc, asio::use_awaitable);
    }
    spill.release(i);  // read: its disk space goes back now, not at the end of the input
  }
}

// The first pass of a partitioned input is done: what it took, into the
// report (partition_summary) and the log.
void note_partition_pass(job_state& j, partition_files& spill, time_point started) {
  spill.flush();
  const double seconds = std::chrono::duration<double>(clock::now() - started).count();
  const std::uint64_t bytes = spill.bytes();
  auto& p = j.partition;
  ++p.inputs;
  p.files += spill.count();
  p.pairs += spill.records();
  p.bytes += bytes;
  p.seconds += seconds;
  p.dir = spill.dir();
  spdlog::info("{}: partitioned {} pairs into {} temporary files in {} ({:.1f} MB) in {:.1f} s", j.input_name,
               spill.records(), spill.count(), spill.dir(), static_cast<double>(bytes) / 1e6, seconds);
}

// A partition split for the file `fd` of `bytes` (0: none): as many files
// as partition_count() asks for at the length of its first 64 KiB's lines,
// as the open-file limit allows; a lower limit or little free space in the
// temporary directory is worth a warning.
std::size_t plan_partitions(const job_state& j, int fd, std::uint64_t bytes) {
  std::vector<char> head(std::min<std::uint64_t>(bytes, 64 << 10));
  const ssize_t got = ::pread(fd, head.data(), head.size(), 0);
  double line = bytes_per_line(std::string_view(head.data(), got > 0 ? static_cast<std::size_t>(got) : 0));
  if (line <= 0) line = default_bytes_per_line;
  const std::size_t wanted = partition_count(bytes, j.cfg.group_window, max_partitions, line);
  if (wanted == 0) return 0;
  const std::size_t reserve = 2 * static_cast<std::size_t>(j.cfg.connections) + 64;
  const std::size_t parts = partition_count(bytes, j.cfg.group_window, partition_file_budget(wanted, reserve), line);
  if (parts < wanted)
    spdlog::warn(
        "{}: the open-file limit allows {} temporary partitions of the {} wanted: larger partitions are "
        "grouped more slowly (raise ulimit -n)",
        j.input_name, parts, wanted);
  return parts;
}

void warn_if_little_space(const job_state& j, const partition_files& spill, std::uint64_t bytes) {
  struct statvfs fs {};
  if (::statvfs(spill.dir().c_str(), &fs) != 0) return;
  const std::uint64_t free_bytes = std::uint64_t{fs.f_bavail} * fs.f_frsize;
  const std::uint64_t most = bytes;  // about 0.6 times a CSV of 11-12 digit ids, more for shorter ones
  if (free_bytes < most)
    spdlog::warn(
        "{}: partitioning may need about {:.1f} GB of temporary disk (the input's size) and {} has {:.1f} GB "
        "free (TMPDIR chooses the directory)",
        j.input_name, static_cast<double>(most) / 1e9, spill.dir(), static_cast<double>(free_bytes) / 1e9);
}

// Reads one input to its end (or until a stop) through the gzip-aware decoder.
asio::awaitable<void> feed_one(job_state& j, const std::string& path) {
  j.input_name = path == "-" ? "<stdin>" : path;
  int fd = 0;
  if (path != "-") {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open input '" + path + "': " + std::strerror(errno));
  }
  struct close_fd {  // a file's descriptor is closed however this returns
    int fd;
    ~close_fd() {
      if (fd > 0) ::close(fd);
    }
  } owned{fd};
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

  // A file that cannot fit in one window is read twice: first split by
  // from-id into partitions of 3/4 of a window, then fed partition by
  // partition (see partition_files, partition_count). An operation whose
  // input is one pair gains nothing from grouping by from-id: never split.
  std::optional<partition_files> spill;
  time_point pass_started{};
  if (regular && j.cfg.partition_input && j.op.groups_to_ids()) {
    if (const std::size_t parts = plan_partitions(j, fd, static_cast<std::uint64_t>(st.st_size)); parts > 0) {
      pass_started = clock::now();
      spill.emplace(parts);
      j.spill = &*spill;
      warn_if_little_space(j, *spill, static_cast<std::uint64_t>(st.st_size));
    }
  }

  std::optional<asio::posix::stream_descriptor> desc;
  // The pipe's descriptor lives in this frame: j.stdin_desc must never
  // outlive it, however this returns (a read, gzip or journal error throws).
  struct forget_desc {
    job_state& j;
    ~forget_desc() { j.stdin_desc = nullptr; }
  } forget{j};
  if (!regular) {
    desc.emplace(j.ioc, ::dup(fd));
    j.stdin_desc = &*desc;
    j.spawn(linger_flusher(j));
  }
  for (;;) {
    if (j.disp.stopped() != stop_reason::none) {
      if (!regular) break;  // a pipe may never end: stop reading it
      if (!j.spill) j.counting_only = true;  // (the first pass only counts anyway)
    }
    while (!j.counting_only && j.disp.queued() >= j.queue_high_water() && j.disp.stopped() == stop_reason::none)
      co_await j.space.wait(timer, time_point::max());
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
    if (regular) co_await asio::post(j.ioc, asio::use_awaitable);  // let sessions run between chunks
  }
  const std::string change = watch.changed(fd, bytes_read);  // "" for pipes
  if (!change.empty()) spdlog::warn("{}: {}", j.input_name, change);
  // A pipe cut short by a stop may end mid-member: only a complete read is checked.
  if (regular || j.disp.stopped() == stop_reason::none) decoder.finish(parser, j);
  parser.finish(j, change.empty());  // a cut last line is rejected, never sent
  j.note_input(path, parser);
  j.add_staged();
  j.flush_journal();
  if (spill) {
    j.spill = nullptr;
    note_partition_pass(j, *spill, pass_started);
    co_await feed_partitions(j, *spill, timer);
  }
}

}  // namespace

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
  // The last window's pairs are cut as the connections take them, not all
  // at once: a batch cut now is cut at today's size, and --batch-size auto
  // may grow it meanwhile.
  asio::steady_timer timer(j.ioc);
  j.add_staged();
  while (!j.grouper.empty() && j.disp.stopped() == stop_reason::none) {
    while (j.disp.stopped() == stop_reason::none && j.disp.queued() >= j.queue_high_water())
      co_await j.space.wait(timer, time_point::max());
    j.take_one_batch();
  }
  j.flush_grouper();  // after a stop: what is left settles pending
  j.reading_done = true;
  j.notify_everyone();
}

}  // namespace hubbatch::engine
