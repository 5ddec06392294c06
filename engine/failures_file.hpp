// The failures file: one CSV line per pair not archived (failed, pending)
// and per rejected input line, readable back as --input (the header names
// from_id/to_id; the other columns are ignored).
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
  // "" = no file: every call does nothing. Throws std::runtime_error naming
  // the path when it cannot be created.
  explicit failures_file(const std::string& path);
  ~failures_file();
  failures_file(const failures_file&) = delete;
  failures_file& operator=(const failures_file&) = delete;

  // One line per pair that did not end archived (returns at once for archived).
  void pairs(std::span<const pair_id> ps, const pair_outcome& o);
  // A rejected input line. `input` names the file when the job reads several ("" for one).
  void rejected(std::string_view input, std::uint64_t line, io::reject_reason r, std::string_view detail);

 private:
  std::FILE* file_ = nullptr;
};

}  // namespace hubbatch::engine
