#include "io/files.hpp"

#include <atomic>
#include <cerrno>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hubbatch::io {
namespace {

std::string cause(int err) { return std::generic_category().message(err); }

[[noreturn]] void fail(const char* what, const std::string& path, int err) {
  throw std::runtime_error(std::string(what) + " '" + path + "': " + cause(err));
}

int open_retrying(const char* path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path, flags, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

// Closes on scope exit unless released (close's own error is checked by the
// writer, where it can report a delayed write failure).
struct fd_closer {
  int fd = -1;
  ~fd_closer() {
    if (fd >= 0) ::close(fd);
  }
};

// The directory part of `path` ("." for a bare name), for its fsync.
std::string directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

std::string read_file(const std::string& path) {
  fd_closer f{open_retrying(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) fail("cannot read", path, errno);
  std::string out;
  struct stat st {};
  if (::fstat(f.fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) out.reserve(static_cast<std::size_t>(st.st_size));
  char buf[64 * 1024];
  for (;;) {
    ssize_t got = ::read(f.fd, buf, sizeof buf);
    if (got < 0) {
      if (errno == EINTR) continue;
      fail("cannot read", path, errno);
    }
    if (got == 0) return out;
    out.append(buf, static_cast<std::size_t>(got));
  }
}

int write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t put = ::write(fd, data.data(), data.size());
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return put < 0 ? errno : EIO;
    data.remove_prefix(static_cast<std::size_t>(put));
  }
  return 0;
}

void write_file_atomic(const std::string& path, std::string_view text) {
  // A name no other writer of `path` uses: this process's id and a counter.
  // O_EXCL: a stale temporary from an earlier process of the same id is
  // never written through (it may be a link someone placed); try the next.
  static std::atomic<unsigned> serial{0};
  std::string tmp;
  fd_closer f;
  for (int attempt = 0; attempt < 16 && f.fd < 0; ++attempt) {
    tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(serial.fetch_add(1));
    f.fd = open_retrying(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (f.fd < 0 && errno != EEXIST) fail("cannot write", path, errno);
  }
  if (f.fd < 0) fail("cannot write", path, EEXIST);
  // From here a failure removes the temporary before it throws.
  auto abandon = [&](int err) {
    ::close(f.fd);
    f.fd = -1;
    ::unlink(tmp.c_str());
    fail("cannot write", path, err);
  };
  if (int err = write_all(f.fd, text)) abandon(err);
  if (::fsync(f.fd) != 0) abandon(errno);
  const int fd = f.fd;
  f.fd = -1;
  if (::close(fd) != 0 && errno != EINTR) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail("cannot write", path, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail("cannot write", path, err);
  }
  // The rename itself is durable once the directory is synced. Best effort:
  // the new file is in place whether or not this succeeds.
  fd_closer dir{open_retrying(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir.fd >= 0) ::fsync(dir.fd);
}

}  // namespace hubbatch::io
