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
}

partition_files::~partition_files() {
  for (auto* f : files_)
    if (f) std::fclose(f);
}

void partition_files::release(std::size_t i) noexcept {
  if (files_[i]) std::fclose(files_[i]);
  files_[i] = nullptr;
  std::vector<record>().swap(pending_[i]);
}

std::size_t partition_files::partition_of(std::uint64_t from) const noexcept {
  const std::uint64_t h = mix_id(from) >> 32;
  return static_cast<std::size_t>((h * files_.size()) >> 32);
}

std::FILE* partition_files::open_for_reading(std::size_t i, std::size_t& records) {
  write_out(i);
  std::FILE* f = files_[i];
  const auto fail = [] {
    throw std::runtime_error(std::string("cannot read a temporary partition: ") + std::strerror(errno));
  };
  if (std::fflush(f) != 0) fail();
  const off_t size = ::ftello(f);
  if (size < 0 || std::fseek(f, 0, SEEK_SET) != 0) fail();
  records = static_cast<std::size_t>(size) / sizeof(record);
  return f;
}

void partition_files::write_out(std::size_t i) {
  auto& b = pending_[i];
  if (!b.empty() && std::fwrite(b.data(), sizeof(record), b.size(), files_[i]) != b.size())
    throw local_write_error(std::string("cannot write a temporary partition: ") + std::strerror(errno));
  b.clear();
}

}  // namespace hubbatch::engine
