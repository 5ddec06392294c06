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
// it has been read back (release()). A record is written compactly
// (encode_record: about 14 bytes for a pair of 11-12 digit ids, 0.6 times
// its CSV line; 32 in memory), which at 100M pairs halved the pass's write
// calls and kept 1.4 GB out of the page cache rather than 3.2. In memory,
// per file: a stdio buffer (4 KiB) and the records gathered for its next
// write (at least 1 KiB).
class partition_files {
 public:
  // One pair in memory: 32 bytes. The type is kept as two plain integers.
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

  // The longest encoded record: the line's delta, from, to (varints of up
  // to 10 bytes), a category byte and the type id (up to 5 bytes).
  static constexpr std::size_t max_encoded = 36;
  // Appends r at p (at most max_encoded bytes), `previous_line` being the
  // line of the record before it in the file (0 for the first); returns the
  // end. Lines must increase within a file (records come in input order):
  // the varint after is (line - previous_line) * 2 + typed. Then from and to
  // as varints and, typed, the category and the type id (as 32 unsigned bits).
  static unsigned char* encode_record(unsigned char* p, const record& r, std::uint64_t previous_line) noexcept;
  // Decodes one record from [p, end) into r; returns the end of it, or null
  // when [p, end) holds no whole record.
  static const unsigned char* decode_record(const unsigned char* p, const unsigned char* end, record& r,
                                            std::uint64_t previous_line) noexcept;

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
  // Writes out what every partition gathered: the end of the first pass.
  // Throws as write() does.
  void flush();
  // Rewinds partition i for read(); returns how many records it holds.
  // Throws std::runtime_error when it cannot.
  std::size_t open_for_reading(std::size_t i);
  // The next records (at most `max`) of the partition open_for_reading()
  // opened, into out; 0 at its end. Throws std::runtime_error on a read
  // error or a file that does not decode (shorter than written).
  std::size_t read(record* out, std::size_t max);
  // Closes partition i once it has been read: its disk space is freed.
  void release(std::size_t i) noexcept;
  std::uint64_t records() const noexcept { return records_; }  // written so far (some may still be gathered)
  std::uint64_t bytes() const noexcept { return bytes_; }      // written to the files so far
  const std::string& dir() const noexcept { return dir_; }     // where the files are ($TMPDIR or /tmp)

 private:
  // The high half of the id hash (io/pair.hpp), scaled to the partition count
  // by a multiply instead of a division (the division alone was a fifth of
  // write()'s cost).
  std::size_t partition_of(std::uint64_t from) const noexcept;
  void write_out(std::size_t i);

  std::vector<std::FILE*> files_;
  std::vector<std::vector<record>> pending_;  // per partition, not yet written
  std::vector<std::uint64_t> last_line_;      // per partition: the line of its last record written (encoding)
  std::vector<std::uint64_t> written_;        // per partition: records written
  std::size_t per_write_ = 0;                 // records gathered before a write
  std::uint64_t records_ = 0;
  std::uint64_t bytes_ = 0;
  std::string dir_;
  std::vector<unsigned char> encoded_;  // write_out's encoding buffer
  // read(): the open partition, its decoding buffer [in_at_, in_end_) and
  // the line of the record last decoded.
  std::FILE* reading_ = nullptr;
  std::vector<unsigned char> in_;
  std::size_t in_at_ = 0, in_end_ = 0;
  std::uint64_t read_line_ = 0;
  bool read_eof_ = false;
};

}  // namespace hubbatch::engine
