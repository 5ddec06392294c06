#include "engine/failures_file.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace hubbatch::engine {

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

failures_file::failures_file(const std::string& path, bool append) : path_(path) {
  if (path.empty()) return;
  file_ = std::fopen(path.c_str(), append ? "a" : "w");
  if (!file_) throw std::runtime_error("cannot write failures file '" + path + "': " + std::strerror(errno));
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 16);
  std::fseek(file_, 0, SEEK_END);
  if (std::ftell(file_) <= 0) std::fwrite(header.data(), 1, header.size(), file_);
  check();
}

void failures_file::check() {
  if (error_.empty() && std::ferror(file_))
    error_ = "cannot write failures file '" + path_ + "': " + std::strerror(errno ? errno : EIO);
}

bool failures_file::finish() {
  if (!file_) return true;
  if (std::fflush(file_) != 0) check();
  check();
  return error_.empty();
}

failures_file::~failures_file() {
  if (file_) std::fclose(file_);
}

void failures_file::pairs(std::span<const pair_id> ps, std::span<const std::uint64_t> lines, const pair_outcome& o) {
  if (!file_ || o.outcome == pair_fate::done || !error_.empty()) return;
  const std::string status = o.http_status ? std::to_string(o.http_status) : std::string();
  const std::string category = csv_field(o.category);
  const std::string message = csv_field(o.message);
  try {
    for (std::size_t i = 0; i < ps.size(); ++i) {
      const assoc_type& t = ps[i].type;
      const std::string type_id = t.empty() ? std::string() : std::to_string(t.id);
      if (i < lines.size()) {
        fmt::print(file_, "{},{},{},{},{},{},{},,{},{}\n", ps[i].from, ps[i].to, to_string(o.outcome), category, status,
                   message, lines[i], to_string(t.category), type_id);
      } else {
        fmt::print(file_, "{},{},{},{},{},{},,,{},{}\n", ps[i].from, ps[i].to, to_string(o.outcome), category, status,
                   message, to_string(t.category), type_id);
      }
    }
  } catch (const std::exception&) {  // fmt::system_error: fwrite failed
  }
  check();
}

void failures_file::rejected(std::string_view input, std::uint64_t line, io::reject_reason r, std::string_view detail,
                             std::string_view raw) {
  if (!file_ || !error_.empty()) return;
  std::string text(raw);
  if (r == io::reject_reason::line_too_long) text += cut_marker;
  try {
    fmt::print(
        file_, ",,rejected,{},,{},{},{},,\n", io::to_string(r),
        csv_field(fmt::format("{}{}line {}: {}: {}", input, input.empty() ? "" : ": ", line, io::describe(r), detail)),
        line, csv_field(text));
  } catch (const std::exception&) {  // fmt::system_error: fwrite failed
  }
  check();
}

}  // namespace hubbatch::engine
