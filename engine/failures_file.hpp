// The failures file: one CSV line per pair not archived (failed, pending)
// and per rejected input line, readable back as --input (the header names
// from_id/to_id; a rejected row, whose ids are empty, is read from its text
// cell, see io/pair_reader.hpp).
//
// Columns: from_id,to_id,outcome,category,http_status,message,line,text,
//          association_category,association_type_id
//   line  the input line number of the pair or rejected line (with several
//         inputs the message of a rejected line names its file)
//   text  for a rejected line, the line as read (CSV-quoted; for
//         line_too_long its first bytes and " [cut]"), for a person to fix;
//         empty for pairs
//   association_category, association_type_id
//         the pair's type (io/assoc_type.hpp), so a rerun creates or removes
//         the same label; empty for untyped pairs and rejected lines. Last, so
//         the columns before them are where files without them had them.
#pragma once

#include "engine/dispatcher.hpp"
#include "io/pair_reader.hpp"

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>

namespace hubbatch::engine {

// Quotes a CSV field when it needs it (RFC 4180).
std::string csv_field(std::string_view s);

class failures_file {
 public:
  // The header line (with its newline).
  static constexpr std::string_view header =
      "from_id,to_id,outcome,category,http_status,message,line,text,association_category,association_type_id\n";
  static_assert(header.substr(0, header.size() - 1) == io::failures_header,
                "the parser recognises a failures file by this header (io/pair_reader.hpp)");
  // Appended to the text of a line_too_long row: only its first bytes are kept.
  static constexpr std::string_view cut_marker = " [cut]";

  // "" = no file: every call does nothing. Throws std::runtime_error naming
  // the path when it cannot be created. With `append` rows go after what
  // the file holds (its header written only when it is empty).
  explicit failures_file(const std::string& path, bool append = false);
  ~failures_file();
  failures_file(const failures_file&) = delete;
  failures_file& operator=(const failures_file&) = delete;

  // One line per pair that did not end archived (returns at once for
  // archived). `lines` holds each pair's input line, or is empty when not
  // tracked (the line cell is then empty).
  void pairs(std::span<const pair_id> ps, std::span<const std::uint64_t> lines, const pair_outcome& o);
  // A rejected input line and its raw text. `input` names the file when the
  // job reads several ("" for one).
  void rejected(std::string_view input, std::uint64_t line, io::reject_reason r, std::string_view detail,
                std::string_view raw);

  // A write failure (a full disk) never throws mid-run: the first one is
  // kept here, later rows are dropped, and the job stops on it (local_io).
  const std::string& error() const noexcept { return error_; }
  // Flushes what is buffered; false (and error() set) when it failed.
  bool finish();

 private:
  void check();  // ferror() -> error_

  std::string path_;
  std::FILE* file_ = nullptr;
  std::string error_;
};

}  // namespace hubbatch::engine
