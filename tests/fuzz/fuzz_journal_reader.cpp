// libFuzzer target: the journal reader (engine::parse_journal) on arbitrary
// bytes: torn, forged, CRC-valid nonsense, huge lengths and line numbers.
// Oracles: only std::runtime_error escapes ("not a hubbatch journal"); the
// intact prefix lies within the input and torn_tail says whether bytes
// follow it; every settled line is counted under exactly one outcome and
// the per-category maps add up; no line above the bound is trusted; and
// reading just the intact prefix gives the same state with no torn tail.
#include "engine/journal.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <stdexcept>
#include <string>

namespace {

constexpr std::uint64_t max_line = 1 << 20;

std::uint64_t sum(const std::map<std::string, std::uint64_t>& m) {
  return std::accumulate(m.begin(), m.end(), std::uint64_t{0}, [](std::uint64_t a, const auto& kv) { return a + kv.second; });
}

void check(const hubbatch::engine::journal_state& st, std::size_t size) {
  if (st.valid_bytes > size) std::abort();
  if (st.torn_tail != (st.valid_bytes < size)) std::abort();
  if (st.archived + st.failed + st.rejected + st.duplicate != st.settled.size()) std::abort();
  if (st.already_absent > st.archived) std::abort();
  if (sum(st.failed_by_category) != st.failed || sum(st.rejected_by_reason) != st.rejected) std::abort();
  if (st.settled.contains(max_line + 1) || st.sent.contains(max_line + 1)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hubbatch::engine;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  journal_state st;
  try {
    st = parse_journal(bytes, "fuzz.journal", max_line);
  } catch (const std::runtime_error&) {
    return 0;  // not a journal: refused with a message, as documented
  }
  check(st, size);
  if (st.valid_bytes > 0) {
    journal_state again = parse_journal(bytes.substr(0, st.valid_bytes), "fuzz.journal", max_line);
    check(again, st.valid_bytes);
    if (again.torn_tail || again.valid_bytes != st.valid_bytes || !(again.identity == st.identity) ||
        again.runs != st.runs || again.finished != st.finished || again.archived != st.archived ||
        again.failed != st.failed || again.rejected != st.rejected || again.duplicate != st.duplicate ||
        again.settled.size() != st.settled.size() || again.sent.size() != st.sent.size())
      std::abort();
  }
  return 0;
}
