// Reading a journal (and the job identity and line sets it is made of).
#include "engine/journal.hpp"

#include "engine/journal_format.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hubbatch::engine {

using namespace journal_format;

job_identity identify_job(const std::string& input, const std::string& from_type, const std::string& to_type,
                          const std::string& api_version, const std::string& operation) {
  job_identity id;
  id.operation = operation;
  id.from_type = from_type;
  id.to_type = to_type;
  id.api_version = api_version;
  int fd = ::open(input.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot read input '" + input + "': " + errno_text());
  struct stat st {};
  ::fstat(fd, &st);
  id.input_size = static_cast<std::uint64_t>(st.st_size);
  id.input_mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  std::vector<unsigned char> head(head_bytes);
  ssize_t n = ::pread(fd, head.data(), head.size(), 0);
  ::close(fd);
  if (n < 0) throw std::runtime_error("cannot read input '" + input + "': " + errno_text());
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (ssize_t i = 0; i < n; ++i) {
    h ^= head[static_cast<std::size_t>(i)];
    h *= 0x100000001b3ULL;
  }
  id.head_hash = h;
  return id;
}

std::string describe_difference(const job_identity& j, const job_identity& now) {
  if (j.operation != now.operation) return "the journal is for " + j.operation + ", not " + now.operation;
  if (j.from_type != now.from_type || j.to_type != now.to_type)
    return "the journal is for " + j.from_type + " -> " + j.to_type + ", not " + now.from_type + " -> " + now.to_type;
  if (j.api_version != now.api_version)
    return "the journal is for API version " + j.api_version + ", not " + now.api_version;
  if (j.input_size != now.input_size) return "the input's size changed since the journal was started";
  if (j.head_hash != now.head_hash) return "the input's content changed since the journal was started";
  if (j.input_mtime_ns != now.input_mtime_ns) return "the input's modification time changed since the journal was started";
  return {};
}

void line_set::insert(std::uint64_t line) {
  std::size_t w = static_cast<std::size_t>(line >> 6);
  if (w >= words_.size()) words_.resize(std::max(w + 1, words_.size() * 2), 0);
  std::uint64_t bit = 1ULL << (line & 63);
  if (!(words_[w] & bit)) {
    words_[w] |= bit;
    ++count_;
  }
}

void line_set::erase(std::uint64_t line) {
  std::size_t w = static_cast<std::size_t>(line >> 6);
  std::uint64_t bit = 1ULL << (line & 63);
  if (w < words_.size() && (words_[w] & bit)) {
    words_[w] &= ~bit;
    --count_;
  }
}

const journal_state::failure_class* journal_state::failure_of(std::uint64_t line) const noexcept {
  for (const auto& f : failures)
    if (f.lines.contains(line)) return &f;
  return nullptr;
}

bool line_set::contains(std::uint64_t line) const noexcept {
  std::size_t w = static_cast<std::size_t>(line >> 6);
  return w < words_.size() && (words_[w] >> (line & 63)) & 1;
}

std::uint64_t line_number_bound(const std::string& input) {
  int fd = ::open(input.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot read input '" + input + "': " + errno_text());
  struct stat st {};
  ::fstat(fd, &st);
  unsigned char magic[2] = {0, 0};
  const bool gzip = ::pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  ::close(fd);
  const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  constexpr std::uint64_t deflate_max_ratio = 1032;
  if (!gzip) return size + 1;
  if (size >= std::numeric_limits<std::uint64_t>::max() / deflate_max_ratio - 2)
    return std::numeric_limits<std::uint64_t>::max();
  return (size + 1) * deflate_max_ratio + 1;
}

std::optional<journal_state> read_journal(const std::string& path, std::uint64_t max_line) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer before fstat refuses it.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw std::runtime_error("cannot read journal '" + path + "': " + errno_text());
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const std::string why = errno_text();
    ::close(fd);
    throw std::runtime_error("cannot read journal '" + path + "': " + why);
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    throw std::runtime_error(not_a_regular_file(path, info.st_mode));
  }
  std::string data;
  data.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(static_cast<std::uint64_t>(info.st_size), 64u << 20)));
  char chunk[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = errno_text();
      ::close(fd);
      throw std::runtime_error("cannot read journal '" + path + "': " + why);
    }
    if (n == 0) break;
    data.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return parse_journal(data, path, max_line);
}

journal_state parse_journal(std::string_view bytes, const std::string& path, std::uint64_t max_line) {
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  journal_state st;
  // Whether the lines at `c` are all within max_line with nothing after
  // them; reads a copy of the cursor, storing nothing (a record's lines are
  // then decoded a second time to apply them: a record is trusted whole or
  // not at all, and a 64 MiB record needs no 512 MiB staging vector).
  const auto lines_check_out = [&](cursor c) {
    decode_lines(c, [&](std::uint64_t l) {
      if (l > max_line) c.ok = false;  // not a line of this input: never allocate for it
    });
    return c.ok && c.p == c.end;
  };
  std::size_t off = 0;
  bool have_header = false;
  while (off + 8 <= bytes.size()) {
    std::uint32_t len = get_u32(&data[off]);
    std::uint32_t crc = get_u32(&data[off + 4]);
    if (len == 0 || len > max_record || off + 8 + len > bytes.size()) break;
    const unsigned char* payload = &data[off + 8];
    if (static_cast<std::uint32_t>(::crc32(0L, payload, len)) != crc) break;
    cursor c{payload, payload + len};
    char type = static_cast<char>(c.byte());
    if (!have_header && type != 'H') break;
    // Every record is decoded whole and checked (no bytes left over) before
    // anything is applied: a record is trusted entirely or not at all.
    const auto complete = [&] { return c.ok && c.p == c.end; };
    switch (type) {
      case 'H': {
        if (have_header) {
          c.ok = false;
          break;
        }
        job_identity id;
        id.input_size = c.varint();
        id.input_mtime_ns = static_cast<std::int64_t>(c.varint());
        id.head_hash = c.u64();
        id.from_type = c.str();
        id.to_type = c.str();
        id.api_version = c.str();
        if (c.ok && c.p != c.end) id.operation = c.str();
        if (!complete()) break;
        st.identity = std::move(id);
        have_header = true;
        break;
      }
      case 'R':
        c.varint();
        if (!complete()) break;
        ++st.runs;
        st.finished = false;
        break;
      case 'E': {
        c.varint();
        const bool finished = c.byte() != 0;
        if (!complete()) break;
        st.finished = finished;
        break;
      }
      case 'T':
        if (!lines_check_out(c)) {
          c.ok = false;
          break;
        }
        decode_lines(c, [&](std::uint64_t l) { st.sent.insert(l); });
        st.finished = false;
        break;
      case 'S': {
        const std::uint8_t outcome_byte = c.byte();
        std::string category = c.str();
        if (outcome_byte > static_cast<std::uint8_t>(settled_outcome::failed_retryable)) c.ok = false;
        if (!c.ok || !lines_check_out(c)) {
          c.ok = false;
          break;
        }
        const auto outcome = static_cast<settled_outcome>(outcome_byte);
        const bool retryable = outcome == settled_outcome::failed_retryable;
        journal_state::failure_class* into = nullptr;
        if (outcome == settled_outcome::failed || retryable) {
          // Each class is a bitmap over the input's lines: past max_failure_classes
          // categories (a server inventing one per error), the rest share "other".
          const auto find = [&](std::string_view cat) -> journal_state::failure_class* {
            for (auto& f : st.failures)
              if (f.category == cat && f.retryable == retryable) return &f;
            return nullptr;
          };
          into = find(category);
          if (!into && st.failures.size() >= max_failure_classes) into = find(category = "other");
          if (!into) into = &st.failures.emplace_back(journal_state::failure_class{category, retryable, {}});
        }
        std::uint64_t n = 0;
        decode_lines(c, [&](std::uint64_t l) {
          if (st.settled.contains(l)) {
            if (!st.retryable_failed.contains(l)) return;  // settled twice (a resent batch): count once
            // A retryable failure of an earlier run, retried: this outcome replaces it.
            for (auto& f : st.failures) {
              if (!f.lines.contains(l)) continue;
              f.lines.erase(l);
              if (--st.failed_by_category[f.category] == 0) st.failed_by_category.erase(f.category);
              break;
            }
            st.retryable_failed.erase(l);
            --st.failed;
            --st.failed_retryable;
          }
          st.settled.insert(l);
          if (into) into->lines.insert(l);
          if (retryable) st.retryable_failed.insert(l);
          ++n;
        });
        switch (outcome) {
          case settled_outcome::archived: st.archived += n; break;
          case settled_outcome::already_absent:
            st.archived += n;
            st.already_absent += n;
            break;
          case settled_outcome::failed_retryable: st.failed_retryable += n; [[fallthrough]];
          case settled_outcome::failed:
            st.failed += n;
            if (n) st.failed_by_category[category] += n;
            break;
          case settled_outcome::rejected:
            st.rejected += n;
            if (n) st.rejected_by_reason[category] += n;
            break;
          case settled_outcome::duplicate: st.duplicate += n; break;
        }
        break;
      }
      default: c.ok = false; break;
    }
    // A record with a valid CRC but a body we cannot parse: stop trusting
    // the file from here (a newer format, or corruption the CRC missed).
    if (!complete()) break;
    off += 8 + len;
    st.valid_bytes = off;
  }
  if (!have_header) {
    if (bytes.empty()) return st;  // created but never written: treat as a fresh journal with no identity
    throw std::runtime_error("'" + path + "' is not a hubbatch journal (or its header is damaged)");
  }
  st.torn_tail = st.valid_bytes < bytes.size();
  return st;
}

}  // namespace hubbatch::engine
