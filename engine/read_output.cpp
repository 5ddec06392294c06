#include "engine/read_output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "engine/failures_file.hpp"
#include "io/decimal.hpp"
#include "io/files.hpp"
#include "io/text.hpp"

namespace hubbatch::engine {
namespace {
constexpr std::size_t write_threshold = 256 * 1024;
}

read_output::read_output(const std::string& path, output_format format, bool truncate) : path_(path), format_(format) {
  if (path == "-") {
    fd_ = STDOUT_FILENO;
  } else {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0644);
    if (fd_ < 0) throw std::runtime_error("cannot write output '" + path + "': " + std::strerror(errno));
    owned_ = true;
  }
  struct stat st {};
  regular_ = ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
  if (format_ == output_format::csv && (!regular_ || st.st_size == 0)) buffer_ += csv_header;
  buffer_.reserve(write_threshold + 4096);
}

read_output::~read_output() {
  if (owned_ && fd_ >= 0) ::close(fd_);
}

void read_output::rows(std::span<const codec::read_row> rows) {
  if (!error_.empty()) return;
  for (const auto& r : rows) {
    const bool typed = !r.type.empty();
    if (format_ == output_format::csv) {
      io::append_u64(buffer_, r.from);
      buffer_ += ',';
      io::append_u64(buffer_, r.to);
      buffer_ += ',';
      if (typed) {
        buffer_ += to_string(r.type.category);
        buffer_ += ',';
        io::append_u64(buffer_, static_cast<std::uint64_t>(r.type.id));
      } else {
        buffer_ += ',';
      }
      buffer_ += ',';
      buffer_ += csv_field(r.label);
      buffer_ += '\n';
    } else {
      buffer_ += "{\"from_id\":\"";
      io::append_u64(buffer_, r.from);
      buffer_ += "\",\"to_id\":\"";
      io::append_u64(buffer_, r.to);
      buffer_ += "\",\"category\":";
      if (typed) {
        buffer_ += '"';
        buffer_ += to_string(r.type.category);
        buffer_ += "\",\"type_id\":";
        io::append_u64(buffer_, static_cast<std::uint64_t>(r.type.id));
      } else {
        buffer_ += "null,\"type_id\":null";
      }
      buffer_ += ",\"label\":";
      if (r.label.empty()) {
        buffer_ += "null";
      } else {
        buffer_ += '"';
        io::append_json_escaped(buffer_, r.label, io::invalid_utf8::replace);
        buffer_ += '"';
      }
      buffer_ += "}\n";
    }
  }
  rows_ += rows.size();
  if (buffer_.size() >= write_threshold) write_out();
}

bool read_output::write_out() {
  if (int err = io::write_all(fd_, buffer_)) error_ = "cannot write output '" + path_ + "': " + std::strerror(err);
  else if (!buffer_.empty()) dirty_ = true;
  buffer_.clear();
  return error_.empty();
}

bool read_output::flush() {
  if (!error_.empty()) return false;
  if (!buffer_.empty() && !write_out()) return false;
  if (dirty_ && regular_ && ::fdatasync(fd_) != 0)
    error_ = "cannot sync output '" + path_ + "': " + std::strerror(errno);
  dirty_ = false;
  return error_.empty();
}

}  // namespace hubbatch::engine
