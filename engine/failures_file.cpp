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

failures_file::failures_file(const std::string& path) {
  if (path.empty()) return;
  file_ = std::fopen(path.c_str(), "w");
  if (!file_) throw std::runtime_error("cannot write failures file '" + path + "': " + std::strerror(errno));
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 16);
  std::fputs("from_id,to_id,outcome,category,http_status,message\n", file_);
}

failures_file::~failures_file() {
  if (file_) std::fclose(file_);
}

void failures_file::pairs(std::span<const pair_id> ps, const pair_outcome& o) {
  if (!file_ || o.outcome == pair_fate::archived) return;
  std::string status = o.http_status ? std::to_string(o.http_status) : std::string();
  for (const pair_id& p : ps)
    fmt::print(file_, "{},{},{},{},{},{}\n", p.from, p.to, to_string(o.outcome), csv_field(o.category), status,
               csv_field(o.message));
}

void failures_file::rejected(std::string_view input, std::uint64_t line, io::reject_reason r,
                             std::string_view detail) {
  if (!file_) return;
  fmt::print(file_, ",,rejected,{},,{}\n", io::to_string(r),
             csv_field(fmt::format("{}{}line {}: {}: {}", input, input.empty() ? "" : ": ", line, io::describe(r),
                                   detail)));
}

}  // namespace hubbatch::engine
