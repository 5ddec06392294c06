#include "io/secret.hpp"

#include <openssl/crypto.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hubbatch::io {

void wipe(char* p, std::size_t n) noexcept {
  if (p && n) OPENSSL_cleanse(p, n);
}

void wipe(std::string& s) noexcept {
  // Earlier, longer contents of the same buffer may sit past size(): grow
  // to the capacity first (no reallocation) so every byte is ours to write.
  s.resize(s.capacity());
  wipe(s.data(), s.size());
  s.clear();
}

std::string read_secret_file(const std::string& path) {
  constexpr std::size_t max_size = 64 * 1024;
  const auto fail = [&](const char* what) {
    return std::runtime_error("cannot read '" + path + "': " + what);
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw fail(std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size < 0 || static_cast<std::size_t>(st.st_size) > max_size) {
    ::close(fd);
    throw fail("not a file of at most 64 KiB");
  }
  std::string out(max_size + 1, '\0');  // one allocation; a file that grew is caught below
  std::size_t used = 0;
  while (used < out.size()) {
    const ssize_t n = ::read(fd, out.data() + used, out.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      wipe(out);
      throw fail(std::strerror(e));
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (used > max_size) {
    wipe(out);
    throw fail("not a file of at most 64 KiB");
  }
  out.resize(used);  // shrinking never reallocates
  return out;
}

}  // namespace hubbatch::io
