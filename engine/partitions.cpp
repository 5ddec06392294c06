#include "engine/partitions.hpp"

#include "engine/local_error.hpp"
#include "io/pair.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include <sys/types.h>
#include <unistd.h>

namespace hubbatch::engine {

partition_files::partition_files(std::size_t count) {
  const char* dir = std::getenv("TMPDIR");
  std::string base = (dir && *dir ? std::string(dir) : std::string("/tmp")) + "/hubbatch-spill-XXXXXX";
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
  // At most 2 MiB of gathered records over all partitions (up to 1024), so
  // memory stays flat whatever the input size; even 1 KiB a write takes the
  // per-record locking out of the profile.
  per_write_ = std::clamp<std::size_t>((2u << 20) / sizeof(record) / std::max<std::size_t>(count, 1),
                                       1024 / sizeof(record), 65536 / sizeof(record));
  pending_.resize(count);
}

partition_files::~partition_files() {
  for (auto* f : files_) std::fclose(f);
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
