// libFuzzer target: the response decoder (every body shape) and the
// rate-limit header parser together, as a session sees them; the body also
// as a labels list (GET …/labels, codec/labels).
//
// Input: header lines "Name: value\n" up to the first empty line, then the
// body. Oracles: no crash/UB/leak; excerpts and correlation ids are
// printable and bounded; num_errors is never negative; a body that decodes
// as a JSON object decodes the same way a second time with the same parser
// (no state leaks between responses on one connection).
#include "codec/labels.hpp"
#include "codec/response.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

using namespace hubbatch::codec;

void check_printable(const std::string& s, std::size_t max) {
  if (s.size() > max) std::abort();
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  rate_limit_headers headers;
  while (!in.empty()) {
    auto nl = in.find('\n');
    std::string_view line = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
    if (line.empty()) break;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    headers.offer(line.substr(0, colon), line.substr(colon + 1));
  }
  check_printable(headers.correlation_id, 128);
  for (auto* v : {&headers.max, &headers.remaining, &headers.interval_ms, &headers.daily, &headers.daily_remaining,
                  &headers.secondly, &headers.secondly_remaining, &headers.retry_after_ms})
    if (*v && **v < 0) std::abort();

  static response_decoder decoder;  // reused across inputs, as a session reuses it
  std::string body(in);
  decoded_response out;
  decoder.decode(body, out);
  if (body != in) std::abort();  // padding must not change the body's bytes
  if (out.num_errors < 0) std::abort();
  if (out.kind == body_kind::not_json || out.kind == body_kind::invalid_json) check_printable(out.message, 163);
  if (out.kind == body_kind::json_object) {
    decoded_response again;
    decoder.decode(body, again);
    if (again.kind != out.kind || again.message != out.message || again.errors.size() != out.errors.size() ||
        again.num_errors != out.num_errors || again.policy_name != out.policy_name ||
        again.batch_too_large != out.batch_too_large || again.context_from_ids != out.context_from_ids)
      std::abort();
  }
  std::string error;
  if (auto labels = decode_labels(std::string(body), error)) {
    for (const auto& l : *labels) {
      if (l.type.empty() || l.type.id < 1) std::abort();
      for (char c : l.label)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) std::abort();
    }
  } else if (error.empty()) {
    std::abort();
  }
  return 0;
}
