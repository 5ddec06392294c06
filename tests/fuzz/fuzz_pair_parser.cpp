// libFuzzer target: the streaming input parser (csv, tsv, ndjson).
//
// Input: byte 0 picks the format and max_line_bytes, byte 1 seeds the chunk
// sizes; the rest is the file, read as pairs and again as record ids
// (parse_options::records). Oracles besides "no crash, no UB": the
// parser's output (pairs, rejects, their details and raw text) must not depend on how
// the input was chunked, every line gets at most one outcome, details
// stay printable and short, and a record id comes with no to id or type.
#include "io/pair_reader.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using namespace hubbatch;

struct recording_sink : io::pair_sink {
  explicit recording_sink(bool records_mode) : records(records_mode) {}
  const bool records;
  std::vector<std::string> events;
  std::uint64_t last_line = 0;
  void on_pair(pair_id p, std::uint64_t line) override {
    check_line(line);
    if (records && (p.to != 0 || !p.type.empty())) std::abort();
    events.push_back("P" + std::to_string(line) + ":" + std::to_string(p.from) + "," + std::to_string(p.to));
  }
  void on_reject(std::uint64_t line, io::reject_reason r, std::string_view detail, std::string_view raw) override {
    check_line(line);
    if (detail.size() > 4 * 64 + 256) std::abort();  // details are bounded (a prefix, a hint, 64 bytes as \xNN)
    for (char c : detail)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) std::abort();  // printable
    if (raw.find('\n') != std::string_view::npos) std::abort();  // one line at most
    if (r == io::reject_reason::line_too_long && raw.size() > io::raw_prefix_bytes) std::abort();  // bounded
    // The raw text goes into the event, so it too must not depend on the chunking.
    events.push_back("R" + std::to_string(line) + ":" + io::to_string(r) + ":" + std::string(detail) + "|" +
                     std::string(raw));
  }
  void check_line(std::uint64_t line) {
    if (line <= last_line) std::abort();  // one outcome per line, in order
    last_line = line;
  }
};

// Parses `input` whole and in chunks seeded by `chunk_seed`; aborts unless
// both give the same.
void check(io::input_format format, const io::parse_options& options, std::string_view input,
           std::uint32_t chunk_seed) {
  recording_sink whole(options.records);
  io::pair_parser a(format, options);
  a.feed(input, whole);
  a.finish(whole);

  recording_sink chunked(options.records);
  io::pair_parser b(format, options);
  std::size_t pos = 0;
  while (pos < input.size()) {
    chunk_seed = chunk_seed * 1103515245u + 12345u;
    std::size_t n = 1 + (chunk_seed >> 16) % 17;
    if (n > input.size() - pos) n = input.size() - pos;
    b.feed(input.substr(pos, n), chunked);
    pos += n;
  }
  b.finish(chunked);

  if (whole.events != chunked.events) std::abort();
  if (a.lines() != b.lines() || a.saw_header() != b.saw_header()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const auto format = static_cast<io::input_format>(data[0] % 3);
  io::parse_options options;
  options.max_line_bytes = (data[0] & 0x80) ? 4096 : 8 + (data[0] >> 2) % 32;  // small limits hit the long-line paths
  std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);
  check(format, options, input, data[1]);
  options.records = true;
  check(format, options, input, data[1]);
  return 0;
}
