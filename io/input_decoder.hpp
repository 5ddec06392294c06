// Push decoder between raw input bytes and a pair_parser, for callers that
// read the input themselves (the job's feeder reads a pipe asynchronously;
// read_pairs_file() reads a file with read(2)): the one gzip inflater.
// gzip is recognised by its magic bytes (1f 8b) at the start, whatever the
// file name, and inflated as it streams (concatenated members allowed) with
// one fixed output buffer, so memory stays bounded whatever the input size;
// anything else passes through unchanged, chunk for chunk.
#pragma once

#include "io/pair_reader.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace hubbatch::io {

class input_decoder {
 public:
  explicit input_decoder(std::string name);  // `name` for error messages
  ~input_decoder();
  input_decoder(const input_decoder&) = delete;
  input_decoder& operator=(const input_decoder&) = delete;

  // Decodes the next chunk of raw bytes and feeds the result to `parser`.
  // Throws std::runtime_error naming the input on corrupt gzip data.
  void feed(std::string_view raw, pair_parser& parser, pair_sink& sink);
  // End of the raw bytes: flushes what is held back and throws if a gzip
  // member is truncated. Does not call parser.finish().
  void finish(pair_parser& parser, pair_sink& sink);

  bool gzip() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace hubbatch::io
