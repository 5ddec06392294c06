// The job journal: an append-only record of what has been settled, so that
// a rerun with --resume neither skips a pair nor spends API budget on work
// already done.
//
// File format: a sequence of records, each
//   u32 payload length (LE) | u32 CRC-32 of the payload (LE) | payload
// and the payload's first byte is its type:
//   'H' header (first record): input size, mtime, hash of the first 64 KiB,
//       object types and API version: the job's identity
//   'R' a run started (unix ms)
//   'T' sent: input line numbers of pairs a request carried for the first time
//   'S' settled: an outcome (archived / already absent / failed / rejected /
//       duplicate), a category, and the input line numbers it applies to
//   'E' a run ended (unix ms, whether nothing was left pending)
// Line numbers are sorted and delta-encoded as varints (about 2-3 bytes a pair).
//
// Threads: flush() encodes records on the calling (network) thread. The
// grouped fdatasync always runs on the writer's own thread, so a slow sync
// never stalls a connection. The write(2) of a batch is done by flush()
// itself while the writer thread is idle (a copy into the page cache), and
// handed to the writer thread while that thread is busy (syncing, or writing
// earlier batches) or once an inline write was slow (a slow disk): batches
// queued meanwhile go out in one write(2), in order. Only run_ended(),
// drain() and the destructor wait for the disk, and flush() when more than
// options::max_queued bytes are already waiting (a disk slower than the
// network then paces the run instead of growing memory).
//
// Crash safety: kill -9 loses only batches still queued for the writer
// thread (none while it is idle): their pairs were sent but look unsettled,
// so a resumed run sends them again (an archive tolerates that and counts
// them as resent). What was written is never lost to kill -9. fdatasync
// runs at most every sync_interval (grouped) and at the end, so power loss
// loses at most that interval (plus what was queued). A torn or corrupt
// tail (short record, bad CRC) is detected, ignored and cut off before the
// next run appends.
//
// Failures: a journal that cannot be opened, or is not a regular file,
// throws at construction (startup). A write or fdatasync failure later
// (ENOSPC, EIO, ...) never throws: the first one is kept as error(), every
// record after it is dropped (the file keeps an intact prefix, at worst a
// torn last record that the reader ignores), and the run's owner stops the
// run on it.
#pragma once

#include "engine/clock.hpp"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/types.h>

namespace hubbatch::engine {

// What identifies a job: resuming against anything else is refused.
struct job_identity {
  std::uint64_t input_size = 0;
  std::int64_t input_mtime_ns = 0;
  std::uint64_t head_hash = 0;  // FNV-1a of the input's first 64 KiB
  std::string from_type, to_type, api_version;
  // The operation and its label, e.g. "archive", "create USER_DEFINED:36"
  // (journals written before operations had one read as "archive").
  std::string operation = "archive";
  friend bool operator==(const job_identity&, const job_identity&) = default;
};

// Reads the identity of `input` for a job. Throws std::runtime_error naming
// the path when it cannot be read.
job_identity identify_job(const std::string& input, const std::string& from_type, const std::string& to_type,
                          const std::string& api_version, const std::string& operation = "archive");

// "input size/mtime/content differ", "object types differ", ... ; "" if equal.
std::string describe_difference(const job_identity& journal, const job_identity& now);

enum class settled_outcome : std::uint8_t {
  archived = 0,
  already_absent = 1,  // archived; the server said it was not associated
  failed = 2,
  rejected = 3,
  duplicate = 4,
  // failed, but another try may pass (retries exhausted on transport errors,
  // 5xx and the like): a resumed run retries it unless --no-retry-failed, and
  // a later settlement of the line replaces this one
  failed_retryable = 5,
};

// A set of line numbers as a bitmap (1 bit per input line).
class line_set {
 public:
  void insert(std::uint64_t line);
  void erase(std::uint64_t line);
  bool contains(std::uint64_t line) const noexcept;
  std::uint64_t size() const noexcept { return count_; }

 private:
  std::vector<std::uint64_t> words_;
  std::uint64_t count_ = 0;
};

// Everything a journal says, as read back.
struct journal_state {
  job_identity identity;
  line_set settled;          // lines with an outcome
  line_set sent;             // lines some request carried (settled or not)
  std::uint64_t runs = 0;    // 'R' records
  bool finished = false;     // the last run ended with nothing pending
  std::uint64_t archived = 0, already_absent = 0, failed = 0, rejected = 0, duplicate = 0;
  // The failed lines by category, so a resumed run can list them again in
  // its failures file; few distinct classes, each a bitmap.
  struct failure_class {
    std::string category;
    bool retryable = false;  // settled_outcome::failed_retryable
    line_set lines;
  };
  std::vector<failure_class> failures;
  line_set retryable_failed;  // union of the retryable classes' lines (a subset of settled)
  std::uint64_t failed_retryable = 0;  // subset of failed
  // The class of a failed line, or null.
  const failure_class* failure_of(std::uint64_t line) const noexcept;
  std::map<std::string, std::uint64_t> failed_by_category;
  std::map<std::string, std::uint64_t> rejected_by_reason;
  std::uint64_t valid_bytes = 0;  // length of the intact prefix
  bool torn_tail = false;         // bytes after valid_bytes were ignored
};

// Reads a journal. nullopt when the file does not exist; throws
// std::runtime_error when it exists but is not a regular file (a device such
// as /dev/full, a FIFO, a directory: refused before reading a byte) or not a
// hubbatch journal. A record
// naming a line above `max_line` is not trusted (nor anything after it), so
// a damaged or forged journal cannot make the reader allocate a bitmap for
// line 2^60.
std::optional<journal_state> read_journal(const std::string& path,
                                          std::uint64_t max_line = std::numeric_limits<std::uint64_t>::max());
// The same for a journal's bytes; `path` only names it in errors.
journal_state parse_journal(std::string_view bytes, const std::string& path, std::uint64_t max_line);

// The highest line number `input` can have: its size plus one, or for gzip
// input deflate's maximal ratio (1032:1) times that. Throws
// std::runtime_error naming the input when it cannot be read.
std::uint64_t line_number_bound(const std::string& input);

// How a journal_writer works; the defaults are production's.
struct journal_writer_options {
  // fdatasync at most this often (grouped), and at run_ended().
  duration sync_interval = std::chrono::seconds(1);
  // flush() waits for the writer thread while this many encoded bytes are
  // already queued (not yet taken by it). Memory is then bounded by about
  // twice this plus one batch (the queue, the batch being written, the one
  // being added).
  std::size_t max_queued = std::size_t{4} << 20;
  // While the writer thread is idle, flush() does the write(2) itself (a copy
  // into the page cache), so that kill -9 loses no settled batch. The first
  // such write slower than this hands every later write to the writer thread
  // (a slow disk). Zero: every write is the writer thread's.
  duration inline_write_limit = std::chrono::milliseconds(10);
  // Test hooks: write(2) and fdatasync(2) as the writer calls them (write on
  // the writer thread or in flush(), both on the constructing thread for the
  // header; sync never in flush()). They return
  // like the system calls, setting errno on failure. Empty: the system call.
  std::function<ssize_t(int fd, const char* data, std::size_t size)> write;
  std::function<int(int fd)> sync;
};

class journal_writer {
 public:
  using options = journal_writer_options;
  // Creates (truncating) a new journal for `id`, or, with `resume`, appends to
  // the one `state` was read from after cutting it at state->valid_bytes.
  // Writes and syncs the header before returning. Throws std::runtime_error
  // naming the path when it cannot, or when the path exists and is not a
  // regular file (nothing is opened for writing then).
  journal_writer(const std::string& path, const job_identity& id, const journal_state* resume,
                 duration sync_interval = std::chrono::seconds(1));
  journal_writer(const std::string& path, const job_identity& id, const journal_state* resume, options opts);
  // Writes and syncs what is queued (as run_ended() does, without an 'E'
  // record), then joins the writer thread. Never throws.
  ~journal_writer();
  journal_writer(const journal_writer&) = delete;
  journal_writer& operator=(const journal_writer&) = delete;

  // Queues an 'R' record (written in the background, like flush()).
  void run_started();
  // Collected until flush(). Called from one thread (the network thread).
  void sent(std::uint64_t line);
  void sent(std::span<const std::uint64_t> lines);  // line 0 (none) is skipped
  void settled(settled_outcome outcome, std::string_view category, std::uint64_t line);
  void settled(settled_outcome outcome, std::string_view category, std::span<const std::uint64_t> lines);
  // Encodes what was collected into records and writes them (one write(2))
  // when the writer thread is idle, or queues them for it (one lock, a buffer
  // swap); asks the writer thread to fdatasync when sync_interval has passed
  // since the last request. Never waits for a sync, nor for a write of the
  // writer thread unless options::max_queued bytes are already waiting. Never throws for an I/O
  // failure: returns false once the journal has failed (see error()); the
  // records are then dropped. A failure the writer meets after this call
  // returns shows in the next call.
  bool flush(time_point now);
  // flush() plus an 'E' record, then waits until everything is written and
  // synced. True when the journal is complete (every record of the run is on
  // disk); false when it failed (error() says why; the 'E' record is then
  // not written, so the journal reads as unfinished).
  bool run_ended(bool finished);
  // Waits until everything queued so far is written and synced (nothing is
  // encoded: call flush() first). False when the journal has failed.
  bool drain();

  // The first write or fdatasync failure, e.g. "cannot write journal 'PATH':
  // No space left on device"; nullopt while all is well. Thread-safe.
  std::optional<std::string> error() const;
  // Bytes and fdatasyncs done so far (the writer thread's work). Thread-safe.
  std::uint64_t bytes_written() const noexcept { return bytes_.load(std::memory_order_relaxed); }
  std::uint64_t syncs() const noexcept { return syncs_.load(std::memory_order_relaxed); }

 private:
  void append_record(std::string_view payload);
  // Hands buf_ to the writer thread; with `sync`, asks for an fdatasync after it.
  bool enqueue(bool sync);
  void writer_loop();
  // On the writer thread (and in the constructor): write all of `data`, or
  // fdatasync; an error message on failure.
  std::optional<std::string> write_all(const std::string& data);
  std::optional<std::string> sync_file();

  std::string path_;
  int fd_ = -1;
  options opts_;

  // The calling thread's side (no lock).
  time_point last_sync_{};
  bool unsynced_ = false;             // queued bytes since the last sync request
  std::string buf_;                   // encoded records not yet queued
  std::string record_;                // the record being built (its capacity kept)
  std::vector<std::uint64_t> sent_;   // collected sent lines
  struct settled_group {
    settled_outcome outcome;
    std::string category;
    std::vector<std::uint64_t> lines;
  };
  std::vector<settled_group> settled_;  // few distinct (outcome, category) keys: searched linearly
  std::size_t last_group_ = 0;          // the one used last (the common case repeats it)

  // Shared with the writer thread, under mutex_.
  mutable std::mutex mutex_;
  std::condition_variable work_;      // the writer thread waits for bytes, a sync request or stop
  std::condition_variable progress_;  // flush() (queue full) and drain() wait for the writer
  std::string queued_;                // bytes handed over, not yet taken
  bool sync_requested_ = false;
  bool busy_ = false;                 // the file is in use: the writer thread holds a batch
                                      // (writing or syncing it), or flush() writes inline
  bool stopping_ = false;
  std::optional<std::string> error_;  // the first failure
  bool dirty_ = false;                // written since the last fdatasync (by whoever holds busy_)
  bool write_inline_ = true;          // flush() may write while the writer thread is idle
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> syncs_{0};
  std::thread thread_;                // last: started when everything above exists
};

}  // namespace hubbatch::engine
