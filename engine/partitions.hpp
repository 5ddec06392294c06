// The "partition" step: a file larger than the group window is first split
// by from-id into temporary files (engine/feed.cpp writes them in a first
// pass over the input and reads them back one by one), so every from-id's
// to-ids meet in one window whatever the input order (a shuffled file
// otherwise fills requests with one to-id per input).
#pragma once

#include "io/pair.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace hubbatch::engine {

// How many temporary files a file of `input_bytes` is split into; 0: it is
// not split (it fits in the group window, or fewer than 2 files may be
// opened). Three quarters of a window each at `bytes_per_line` (measured on
// the file's start, bytes_per_line(); 16, a cautious guess, when it cannot
// be), at most max_partitions and at most `open_files`. Fewer, fuller
// partitions make the first pass cheaper: every pair goes to one of the
// partitions' buffers, and with thousands of them those writes miss the
// cache (100M pairs on 2 shared cores: 24-27 s into 3,103 files, 14-20 s
// into 1,335). A partition bigger than the window (lines much shorter than
// the start's) is still grouped, more slowly (engine/feed.cpp).
inline constexpr std::size_t max_partitions = 4096;
inline constexpr double default_bytes_per_line = 16;
std::size_t partition_count(std::uint64_t input_bytes, std::size_t group_window, std::size_t open_files,
                            double bytes_per_line = default_bytes_per_line);

// The mean length of the lines in `sample` (the first bytes of an input), 0
// when it cannot tell: fewer than 16 whole lines, or gzip data (the size of
// a compressed file says nothing of its lines).
double bytes_per_line(std::string_view sample);

// The descriptors the partition files may take: the soft limit on open
// files (RLIMIT_NOFILE), first raised toward `wanted` + `reserve` when it is
// lower (up to the hard limit: many systems start programs at 1024), less
// `reserve` for everything else the job opens (connections, journal,
// failures file, output, stdio).
std::size_t partition_file_budget(std::size_t wanted, std::size_t reserve);

// Partitions by a hash of the from-id: all pairs of one from-id land in the
// same partition. The files are unlinked at creation (in $TMPDIR or /tmp),
// so they vanish with the process; each is closed, and its disk freed, once
// it has been read back (release()). They take 32 bytes a pair (about 1.3
// times a CSV of 11-12 digit ids; twice the input's size at 16 bytes a
// line), plus per file in memory a stdio
// buffer (4 KiB) and the records gathered for its next write (at least 1 KiB).
class partition_files {
 public:
  // One pair as stored: 32 bytes. The type is kept as two plain integers,
  // not an assoc_type, so the record has no padding bytes to write.
  struct record {
    std::uint64_t from, to, line;
    std::int32_t type_id;    // assoc_type::id (0 when untyped)
    std::uint32_t category;  // assoc_type::category as an integer (0 = none: untyped)
    pair_id pair() const noexcept {
      return pair_id{from, to, assoc_type{type_id, static_cast<assoc_category>(category)}};
    }
    // The run the record belongs to when a partition is reordered
    // (engine/feed.cpp, engine/runs.hpp): one per (from-id, type). Untyped
    // records are keyed by the from-id, as before types. A typed one's key
    // mixes the type in: distinct for distinct types of one from-id (the xor
    // with a fixed value and mix_id are one-to-one), the type hashed first so
    // that nearby from-ids with nearby type ids do not cancel out. Two runs
    // that still share a key (about n^2 / 2^65 for n runs) only interleave:
    // the grouper starts a new group whenever the from-id or the type
    // changes, so their pairs go out in smaller requests (a duplicate split
    // across two groups is sent twice, which archive and create both
    // tolerate), each with its own type.
    std::uint64_t run_key() const noexcept {
      if (category == 0) return from;
      return mix_id(from ^ mix_id(std::uint64_t{static_cast<std::uint32_t>(type_id)} << 3 | category));
    }
  };
  static_assert(sizeof(record) == 32);

  // Throws std::runtime_error naming the directory when a file cannot be made.
  explicit partition_files(std::size_t count);
  ~partition_files();
  partition_files(const partition_files&) = delete;
  partition_files& operator=(const partition_files&) = delete;

  // Records are gathered per partition and written up to 64 KiB at a time
  // (one locked fwrite per record was ~4% of the client's CPU). Throws
  // std::runtime_error on a write failure (a full disk).
  void write(const pair_id& p, std::uint64_t line) {
    ++records_;
    const std::size_t i = partition_of(p.from);
    auto& b = pending_[i];
    b.push_back(record{p.from, p.to, line, p.type.id, static_cast<std::uint32_t>(p.type.category)});
    if (b.size() >= per_write_) write_out(i);
  }
  std::size_t count() const noexcept { return files_.size(); }
  // Rewinds partition i for reading; `records` receives how many it holds.
  std::FILE* open_for_reading(std::size_t i, std::size_t& records);
  // Closes partition i once it has been read: its disk space is freed.
  void release(std::size_t i) noexcept;
  std::uint64_t records() const noexcept { return records_; }  // written so far (some may still be gathered)
  const std::string& dir() const noexcept { return dir_; }     // where the files are ($TMPDIR or /tmp)

 private:
  // The high half of the id hash (io/pair.hpp), scaled to the partition count
  // by a multiply instead of a division (the division alone was a fifth of
  // write()'s cost).
  std::size_t partition_of(std::uint64_t from) const noexcept;
  void write_out(std::size_t i);

  std::vector<std::FILE*> files_;
  std::vector<std::vector<record>> pending_;  // per partition, not yet written
  std::size_t per_write_ = 0;                 // records gathered before a write
  std::uint64_t records_ = 0;
  std::string dir_;
};

}  // namespace hubbatch::engine
