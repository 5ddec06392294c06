// Where a reading operation's rows go (export's --output): one line per
// association type, streamed.
//
//   csv     from_id,to_id,category,type_id,label   (a header line first in an
//           empty file; label CSV-quoted when it needs it, empty for the
//           unlabelled type) — the columns create --input reads back, labels
//           included (io/pair_reader.hpp), so an export restores as it was
//   ndjson  {"from_id":"101","to_id":"9001","category":"USER_DEFINED","type_id":36,"label":"Billing"}
//           (label null when absent)
//
// Rows are written before the records they belong to settle in the journal:
// the job calls flush() (write and fdatasync) before each journal flush, so
// a record the journal calls read has its rows on disk. A record that was
// between pages when a run stopped is read again from its first page by the
// resumed run: its earlier rows may appear twice (a set of rows is the same).
#pragma once

#include <span>
#include <string>

#include "codec/read_response.hpp"
#include "engine/config.hpp"

namespace hubbatch::engine {

class read_output {
 public:
  static constexpr std::string_view csv_header = "from_id,to_id,category,type_id,label\n";

  // Opens `path` ("-" = standard output) for appending, or emptied first
  // with `truncate`. Throws std::runtime_error naming the path when it
  // cannot be opened.
  read_output(const std::string& path, output_format format, bool truncate);
  ~read_output();
  read_output(const read_output&) = delete;
  read_output& operator=(const read_output&) = delete;

  void rows(std::span<const codec::read_row> rows);
  // Writes what is buffered and syncs it (not for a pipe); false (and
  // error() set) when that failed. Later rows are then dropped: the job
  // stops on the error (local_io) and a resumed run reads those records again.
  bool flush();
  const std::string& error() const noexcept { return error_; }
  std::uint64_t rows_written() const noexcept { return rows_; }

 private:
  bool write_out();

  std::string path_;
  output_format format_;
  int fd_ = -1;
  bool owned_ = false;    // not stdout
  bool regular_ = false;  // a regular file: fdatasync it
  bool dirty_ = false;    // written since the last sync
  std::string buffer_;
  std::string error_;
  std::uint64_t rows_ = 0;
};

}  // namespace hubbatch::engine
