// libFuzzer target: io::read_pairs_file on a real file descriptor, gzip
// included. Byte 0: bit 0 gzips the rest before writing it (so the parser
// behind the inflater sees the fuzzer's text), bit 1 truncates that gzip
// stream by byte 1, bits 2-3 pick the format. Without bit 0 the bytes are
// written as they are (the corpus holds real .gz files, corrupt ones too).
// Oracles: only std::runtime_error may escape (corrupt/truncated gzip), and
// an intact gzip of X parses exactly like X.
#include "io/pair_reader.hpp"

#include <zlib.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace hubbatch;

struct counting_sink : io::pair_sink {
  std::vector<std::string> events;
  void on_pair(pair_id p, std::uint64_t line) override {
    events.push_back(std::to_string(line) + ":" + std::to_string(p.from) + "," + std::to_string(p.to));
  }
  void on_reject(std::uint64_t line, io::reject_reason r, std::string_view, std::string_view) override {
    events.push_back(std::to_string(line) + ":" + io::to_string(r));
  }
};

std::string gzip(std::string_view in) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::string out(deflateBound(&zs, static_cast<uLong>(in.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// Writes `bytes` to an anonymous file and parses it through /proc/self/fd.
bool parse_file(std::string_view bytes, io::input_format format, counting_sink& sink) {
  int fd = memfd_create("fuzz", MFD_CLOEXEC);
  if (fd < 0) std::abort();
  for (std::size_t off = 0; off < bytes.size();) {
    ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n <= 0) std::abort();
    off += static_cast<std::size_t>(n);
  }
  bool ok = true;
  try {
    io::read_pairs_file("/proc/self/fd/" + std::to_string(fd), format, sink);
  } catch (const std::runtime_error&) {
    ok = false;
  }
  ::close(fd);
  return ok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t mode = data[0];
  const auto format = static_cast<io::input_format>((mode >> 2) % 3);
  std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
  if (!(mode & 1)) {
    counting_sink sink;
    parse_file(text, format, sink);
    return 0;
  }
  std::string gz = gzip(text);
  if (mode & 2) {
    gz.resize(gz.size() * data[1] / 256);  // cut short: must be an error, never a silent short read
    counting_sink sink;
    // With its magic bytes kept, a cut stream (even inside the CRC/size
    // trailer) must be reported, never read as a shorter input.
    if (parse_file(gz, format, sink) && gz.size() >= 2) std::abort();
    return 0;
  }
  counting_sink plain, inflated;
  io::pair_parser p(format);
  p.feed(text, plain);
  p.finish(plain);
  if (!parse_file(gz, format, inflated)) std::abort();  // an intact stream must inflate
  if (plain.events != inflated.events) std::abort();
  return 0;
}
