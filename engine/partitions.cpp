#include "engine/partitions.hpp"

#include "engine/local_error.hpp"
#include "io/pair.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

namespace hubbatch::engine {

std::size_t partition_count(std::uint64_t input_bytes, std::size_t group_window, std::size_t open_files,
                            double bytes_per_line) {
  const auto estimate = static_cast<std::uint64_t>(static_cast<double>(input_bytes) / std::max(bytes_per_line, 1.0));
  const std::uint64_t per_partition = std::max<std::uint64_t>(1, std::uint64_t{group_window} * 3 / 4);
  const std::uint64_t parts = (estimate + per_partition - 1) / per_partition;
  if (parts <= 1) return 0;
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>({parts, max_partitions, open_files}));
  return n < 2 ? 0 : n;
}

double bytes_per_line(std::string_view sample) {
  if (sample.size() >= 2 && static_cast<unsigned char>(sample[0]) == 0x1f &&
      static_cast<unsigned char>(sample[1]) == 0x8b)
    return 0;  // gzip
  const auto lines = std::count(sample.begin(), sample.end(), '\n');
  if (lines < 16) return 0;
  return static_cast<double>(sample.rfind('\n') + 1) / static_cast<double>(lines);
}

std::size_t partition_file_budget(std::size_t wanted, std::size_t reserve) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  const rlim_t need = static_cast<rlim_t>(wanted + reserve);
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < need) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max == RLIM_INFINITY ? need : std::min(need, lim.rlim_max);
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  if (lim.rlim_cur == RLIM_INFINITY) return wanted;
  const auto soft = static_cast<std::size_t>(lim.rlim_cur);
  return soft > reserve ? soft - reserve : 0;
}

partition_files::partition_files(std::size_t count) {
  const char* dir = std::getenv("TMPDIR");
  dir_ = dir && *dir ? std::string(dir) : std::string("/tmp");
  std::string base = dir_ + "/hubbatch-spill-XXXXXX";
  for (std::size_t i = 0; i < count; ++i) {
    std::vector<char> name(base.begin(), base.end());
    name.push_back('\0');
    int fd = ::mkstemp(name.data());
    if (fd < 0) throw std::runtime_error("cannot create a temporary file in " + base + ": " + std::strerror(errno));
    ::unlink(name.data());
    std::FILE* f = ::fdopen(fd, "w+b");
    if (!f) {
      ::close(fd);
      throw std::runtime_error(std::string("fdopen: ") + std::strerror(errno));
    }
    files_.push_back(f);
  }
  // At most 2 MiB of gathered records over all partitions (1 KiB each above
  // 2048 partitions), so memory stays flat whatever the input size; even 1
  // KiB a write takes the per-record locking out of the profile.
  per_write_ = std::clamp<std::size_t>((2u << 20) / sizeof(record) / std::max<std::size_t>(count, 1),
                                       1024 / sizeof(record), 65536 / sizeof(record));
  pending_.resize(count);
  last_line_.assign(count, 0);
  written_.assign(count, 0);
  encoded_.resize(per_write_ * max_encoded);
  in_.resize(64 << 10);
}

namespace {

unsigned char* put_varint(unsigned char* p, std::uint64_t v) noexcept {
  while (v >= 0x80) {
    *p++ = static_cast<unsigned char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<unsigned char>(v);
  return p;
}

// Null when [p, end) ends inside the varint or it runs past 64 bits.
const unsigned char* get_varint(const unsigned char* p, const unsigned char* end, std::uint64_t& v) noexcept {
  v = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    const unsigned char b = *p++;
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return p;
  }
  return nullptr;
}

}  // namespace

unsigned char* partition_files::encode_record(unsigned char* p, const record& r, std::uint64_t previous_line) noexcept {
  const bool typed = r.category != 0;
  p = put_varint(p, (r.line - previous_line) << 1 | (typed ? 1 : 0));
  p = put_varint(p, r.from);
  p = put_varint(p, r.to);
  if (typed) {
    *p++ = static_cast<unsigned char>(r.category);
    p = put_varint(p, static_cast<std::uint32_t>(r.type_id));
  }
  return p;
}

const unsigned char* partition_files::decode_record(const unsigned char* p, const unsigned char* end, record& r,
                                                    std::uint64_t previous_line) noexcept {
  std::uint64_t head = 0, type = 0;
  if (!(p = get_varint(p, end, head)) || !(p = get_varint(p, end, r.from)) || !(p = get_varint(p, end, r.to)))
    return nullptr;
  r.line = previous_line + (head >> 1);
  r.type_id = 0;
  r.category = 0;
  if (head & 1) {
    if (p == end) return nullptr;
    r.category = *p++;
    if (!(p = get_varint(p, end, type))) return nullptr;
    r.type_id = static_cast<std::int32_t>(static_cast<std::uint32_t>(type));
  }
  return p;
}

partition_files::~partition_files() {
  for (auto* f : files_)
    if (f) std::fclose(f);
}

void partition_files::release(std::size_t i) noexcept {
  if (reading_ == files_[i]) reading_ = nullptr;
  if (files_[i]) std::fclose(files_[i]);
  files_[i] = nullptr;
  std::vector<record>().swap(pending_[i]);
}

std::size_t partition_files::partition_of(std::uint64_t from) const noexcept {
  const std::uint64_t h = mix_id(from) >> 32;
  return static_cast<std::size_t>((h * files_.size()) >> 32);
}

void partition_files::flush() {
  for (std::size_t i = 0; i < files_.size(); ++i) write_out(i);
}

std::size_t partition_files::open_for_reading(std::size_t i) {
  write_out(i);
  std::FILE* f = files_[i];
  if (std::fflush(f) != 0 || std::fseek(f, 0, SEEK_SET) != 0)
    throw std::runtime_error(std::string("cannot read a temporary partition: ") + std::strerror(errno));
  reading_ = f;
  in_at_ = in_end_ = 0;
  read_line_ = 0;
  read_eof_ = false;
  return static_cast<std::size_t>(written_[i]);
}

std::size_t partition_files::read(record* out, std::size_t max) {
  std::size_t n = 0;
  while (n < max) {
    if (in_end_ - in_at_ < max_encoded && !read_eof_) {  // top up: a whole record is then always there
      std::copy(in_.begin() + static_cast<std::ptrdiff_t>(in_at_), in_.begin() + static_cast<std::ptrdiff_t>(in_end_),
                in_.begin());
      in_end_ -= in_at_;
      in_at_ = 0;
      const std::size_t got = std::fread(in_.data() + in_end_, 1, in_.size() - in_end_, reading_);
      if (got < in_.size() - in_end_) {
        if (std::ferror(reading_))
          throw std::runtime_error(std::string("cannot read a temporary partition: ") + std::strerror(errno));
        read_eof_ = true;
      }
      in_end_ += got;
    }
    if (in_at_ == in_end_) break;  // the end of the partition
    const unsigned char* begin = in_.data() + in_at_;
    const unsigned char* next = decode_record(begin, in_.data() + in_end_, out[n], read_line_);
    if (!next) throw std::runtime_error("cannot read a temporary partition: it is shorter than written");
    read_line_ = out[n++].line;
    in_at_ += static_cast<std::size_t>(next - begin);
  }
  return n;
}

void partition_files::write_out(std::size_t i) {
  auto& b = pending_[i];
  if (b.empty()) return;
  unsigned char* const start = encoded_.data();
  unsigned char* p = start;
  std::uint64_t line = last_line_[i];
  for (const record& r : b) {
    if (r.line < line) throw std::logic_error("partition_files: lines must increase within a partition");
    p = encode_record(p, r, line);
    line = r.line;
  }
  const auto size = static_cast<std::size_t>(p - start);
  if (std::fwrite(start, 1, size, files_[i]) != size)
    throw local_write_error(std::string("cannot write a temporary partition: ") + std::strerror(errno));
  last_line_[i] = line;
  written_[i] += b.size();
  bytes_ += size;
  b.clear();
}

}  // namespace hubbatch::engine
