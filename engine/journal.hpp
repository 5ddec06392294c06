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
// Crash safety: every record is written with one write(2) as soon as its
// batch settles, so kill -9 loses nothing that was settled; fdatasync runs
// at most every sync_interval (grouped) and at the end, so power loss loses
// at most that interval. A torn or corrupt tail (short record, bad CRC) is
// detected, ignored and cut off before the next run appends.
#pragma once

#include "engine/clock.hpp"

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hubbatch::engine {

// What identifies a job: resuming against anything else is refused.
struct job_identity {
  std::uint64_t input_size = 0;
  std::int64_t input_mtime_ns = 0;
  std::uint64_t head_hash = 0;  // FNV-1a of the input's first 64 KiB
  std::string from_type, to_type, api_version;
  friend bool operator==(const job_identity&, const job_identity&) = default;
};

// Reads the identity of `input` for a job. Throws std::runtime_error naming
// the path when it cannot be read.
job_identity identify_job(const std::string& input, const std::string& from_type, const std::string& to_type,
                          const std::string& api_version);

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
// std::runtime_error when it exists but is not a hubbatch journal. A record
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

class journal_writer {
 public:
  // Creates (truncating) a new journal for `id`, or, with `resume`, appends to
  // the one `state` was read from after cutting it at state->valid_bytes.
  // Throws std::runtime_error naming the path on failure.
  journal_writer(const std::string& path, const job_identity& id, const journal_state* resume,
                 duration sync_interval = std::chrono::seconds(1));
  ~journal_writer();
  journal_writer(const journal_writer&) = delete;
  journal_writer& operator=(const journal_writer&) = delete;

  void run_started();
  // Collected until flush().
  void sent(std::uint64_t line);
  void sent(std::span<const std::uint64_t> lines);  // line 0 (none) is skipped
  void settled(settled_outcome outcome, std::string_view category, std::uint64_t line);
  void settled(settled_outcome outcome, std::string_view category, std::span<const std::uint64_t> lines);
  // Encodes what was collected into records and writes them (one write(2));
  // fdatasync when sync_interval has passed since the last one.
  void flush(time_point now);
  // flush() plus an 'E' record and fdatasync.
  void run_ended(bool finished);

  std::uint64_t bytes_written() const noexcept { return bytes_; }
  std::uint64_t syncs() const noexcept { return syncs_; }

 private:
  void append_record(std::string_view payload);
  void write_out();
  void sync();

  std::string path_;
  int fd_ = -1;
  duration sync_interval_;
  time_point last_sync_{};
  std::string buf_;                   // encoded records not yet written
  std::string record_;                // the record being built (its capacity kept)
  std::vector<std::uint64_t> sent_;   // collected sent lines
  struct settled_group {
    settled_outcome outcome;
    std::string category;
    std::vector<std::uint64_t> lines;
  };
  std::vector<settled_group> settled_;  // few distinct (outcome, category) keys: searched linearly
  std::size_t last_group_ = 0;          // the one used last (the common case repeats it)
  std::uint64_t bytes_ = 0;
  std::uint64_t syncs_ = 0;
  bool dirty_ = false;                // written since the last sync
};

}  // namespace hubbatch::engine
