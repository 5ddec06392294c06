// The "partition" step: a file larger than the group window is first split
// by from-id into temporary files (engine/feed.cpp writes them in a first
// pass over the input and reads them back one by one), so every from-id's
// to-ids meet in one window whatever the input order (a shuffled file
// otherwise fills requests with one to-id per input).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace hubbatch::engine {

// Partitions by a hash of the from-id: all pairs of one from-id land in the
// same partition. The files are unlinked at creation (in $TMPDIR or /tmp),
// so they vanish with the process.
class partition_files {
 public:
  struct record {
    std::uint64_t from, to, line;
  };

  // Throws std::runtime_error naming the directory when a file cannot be made.
  explicit partition_files(std::size_t count);
  ~partition_files();
  partition_files(const partition_files&) = delete;
  partition_files& operator=(const partition_files&) = delete;

  // Records are gathered per partition and written up to 64 KiB at a time
  // (one locked fwrite per record was ~4% of the client's CPU). Throws
  // std::runtime_error on a write failure (a full disk).
  void write(std::uint64_t from, std::uint64_t to, std::uint64_t line) {
    const std::size_t i = partition_of(from);
    auto& b = pending_[i];
    b.push_back(record{from, to, line});
    if (b.size() >= per_write_) write_out(i);
  }
  std::size_t count() const noexcept { return files_.size(); }
  // Rewinds partition i for reading; `records` receives how many it holds.
  std::FILE* open_for_reading(std::size_t i, std::size_t& records);

 private:
  // The high half of the id hash (io/pair.hpp), scaled to the partition count
  // by a multiply instead of a division (the division alone was a fifth of
  // write()'s cost).
  std::size_t partition_of(std::uint64_t from) const noexcept;
  void write_out(std::size_t i);

  std::vector<std::FILE*> files_;
  std::vector<std::vector<record>> pending_;  // per partition, not yet written
  std::size_t per_write_ = 0;                 // records gathered before a write
};

}  // namespace hubbatch::engine
