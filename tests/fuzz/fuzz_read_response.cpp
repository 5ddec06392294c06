// libFuzzer target: the batch/read answer decoder (codec/read_response), as
// a connection reuses it.
//
// Input: the body. Oracles: no crash/UB/leak; the body's bytes stay; labels
// printable and at most max_label_bytes; a cursor empty or printable ASCII
// without space, quote or backslash, at most max_cursor_bytes; rows,
// cursors and errors bounded by the body's size; a body that does not
// parse keeps nothing; the same body decodes the same way twice on one
// decoder (no state leaks between answers).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "codec/read_response.hpp"

namespace {

using namespace hubbatch::codec;

void check(const decoded_read& r, std::size_t body_size) {
  if (r.num_errors < 0) std::abort();
  if (r.rows.size() > body_size || r.next.size() > body_size || r.errors.size() > body_size) std::abort();
  for (const auto& row : r.rows) {
    if (row.label.size() > max_label_bytes) std::abort();
    for (char c : row.label)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) std::abort();
    if (!row.type.empty() && row.type.id < 1) std::abort();
  }
  for (const auto& n : r.next) {
    if (n.after.size() > max_cursor_bytes) std::abort();
    for (char c : n.after)
      if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') std::abort();
  }
  if (r.kind != body_kind::json_object) {
    if (!r.rows.empty() || !r.next.empty() || !r.errors.empty() || r.message.size() > 163) std::abort();
    for (char c : r.message)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) std::abort();
  }
}

bool same(const decoded_read& a, const decoded_read& b) {
  if (a.kind != b.kind || a.rows.size() != b.rows.size() || a.next.size() != b.next.size() ||
      a.errors.size() != b.errors.size() || a.num_errors != b.num_errors || a.skipped != b.skipped ||
      a.status != b.status || a.message != b.message)
    return false;
  for (std::size_t i = 0; i < a.rows.size(); ++i)
    if (a.rows[i].from != b.rows[i].from || a.rows[i].to != b.rows[i].to || a.rows[i].type != b.rows[i].type ||
        a.rows[i].label != b.rows[i].label)
      return false;
  for (std::size_t i = 0; i < a.next.size(); ++i)
    if (a.next[i].from != b.next[i].from || a.next[i].after != b.next[i].after) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  static read_response_decoder decoder;  // reused across inputs, as a session reuses it
  std::string body(in);
  decoded_read out;
  decoder.decode(body, out);
  if (body != in) std::abort();
  check(out, size);
  decoded_read again;
  decoder.decode(body, again);
  if (!same(out, again)) std::abort();
  return 0;
}
