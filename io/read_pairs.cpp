// Reading a whole file or stdin through a pair_parser (read_pairs_file), and
// noticing a file that changes while it is read (input_watch); declared in
// io/pair_reader.hpp.
#include "io/pair_reader.hpp"

#include "io/input_decoder.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

namespace hubbatch::io {

namespace {

constexpr std::size_t read_chunk_bytes = 64 * 1024;

// read(2) retrying EINTR; throws naming `path` on error. 0 at end of input.
std::size_t read_some(int fd, char* buf, std::size_t n, const std::string& path) {
  for (;;) {
    ssize_t got = ::read(fd, buf, n);
    if (got >= 0) return static_cast<std::size_t>(got);
    if (errno != EINTR) throw std::runtime_error(path + ": read failed: " + std::generic_category().message(errno));
  }
}

// Reads `fd` to the end through `parser`, inflating gzip through
// input_decoder (the one inflate loop: magic bytes, concatenated members, a
// truncated stream is an error naming `path`, not a short input). Plain input
// passes straight from the read buffer to the parser.
void pump_fd(int fd, const std::string& path, pair_parser& parser, pair_sink& sink) {
  const input_watch watch(fd);
  input_decoder decoder(path);
  std::uint64_t total = 0;  // raw bytes read (compressed ones for gzip)
  std::unique_ptr<char[]> in(new char[read_chunk_bytes]);
  while (std::size_t n = read_some(fd, in.get(), read_chunk_bytes, path)) {
    total += n;
    decoder.feed(std::string_view(in.get(), n), parser, sink);
  }
  decoder.finish(parser, sink);
  // A file that changed under us fails the read, after its possibly cut
  // last line is rejected rather than parsed.
  std::string change = watch.changed(fd, total);
  parser.finish(sink, change.empty());
  if (!change.empty()) throw std::runtime_error(path + ": " + change);
}

}  // namespace

input_watch::input_watch(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
  regular_ = true;
  size_ = static_cast<std::uint64_t>(st.st_size);
  mtime_ns_ = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

std::string input_watch::changed(int fd, std::uint64_t bytes_read) const {
  if (!regular_) return {};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return "input changed while being read: cannot stat it any more";
  const auto now = static_cast<std::uint64_t>(st.st_size);
  const std::int64_t mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  if (now == size_ && bytes_read == size_ && mtime == mtime_ns_) return {};
  std::string why = "input changed while being read: " + std::to_string(size_) + " bytes when opened, " +
                    std::to_string(now) + " now, " + std::to_string(bytes_read) + " read";
  if (mtime != mtime_ns_ && now == size_ && bytes_read == size_) why += " (rewritten in place)";
  return why + "; the last line may be incomplete, rerun on a finished file";
}

void read_pairs_file(const std::string& path, input_format format, pair_sink& sink, std::size_t max_line_bytes) {
  read_pairs_file(path, format, sink, parse_options{max_line_bytes, ',', {}});
}

void read_pairs_file(const std::string& path, input_format format, pair_sink& sink, const parse_options& options) {
  pair_parser parser(format, options);
  read_pairs_file(path, parser, sink);
}

void read_pairs_file(const std::string& path, pair_parser& parser, pair_sink& sink) {
  if (path == "-") {
    pump_fd(STDIN_FILENO, path, parser, sink);
    return;
  }
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw std::runtime_error(path + ": cannot open: " + std::generic_category().message(errno));
  struct fd_guard {
    int fd;
    ~fd_guard() { ::close(fd); }
  } guard{fd};
  pump_fd(fd, path, parser, sink);
}

}  // namespace hubbatch::io
