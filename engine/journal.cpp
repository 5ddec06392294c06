#include "engine/journal.hpp"

#include "engine/radix_sort.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <limits>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hubbatch::engine {
namespace {

constexpr std::size_t head_bytes = 64 * 1024;
constexpr std::uint32_t max_record = 64u << 20;  // a larger length field means corruption
constexpr std::size_t max_failure_classes = 64;

// strerror's text, thread-safe (the writer thread reports errors too).
std::string errno_text() { return std::error_code(errno, std::generic_category()).message(); }

// A journal must be a regular file: reading /dev/full (endless zeros) once
// grew the buffer until std::bad_alloc, opening a FIFO blocks, and a
// directory or device cannot hold a journal anyway.
std::string not_a_regular_file(const std::string& path, mode_t mode) {
  const char* what = S_ISDIR(mode)    ? "a directory"
                     : S_ISCHR(mode)  ? "a character device"
                     : S_ISBLK(mode)  ? "a block device"
                     : S_ISFIFO(mode) ? "a FIFO"
                     : S_ISSOCK(mode) ? "a socket"
                                      : "of another kind";
  return "journal '" + path + "' is not a regular file (it is " + what + "): give the path of a file";
}

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint32_t get_u32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

// LEB128: 7 bits a byte, low first, the high bit set on all but the last.
// Writes at most max_varint bytes at p; returns the end.
constexpr std::size_t max_varint = 10;
char* put_varint(char* p, std::uint64_t v) noexcept {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

void put_varint(std::string& out, std::uint64_t v) {
  char buf[max_varint];
  out.append(buf, put_varint(buf, v));
}

void put_str(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out += s;
}

// Bounds-checked cursor over one record's payload.
struct cursor {
  const unsigned char* p;
  const unsigned char* end;
  bool ok = true;

  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= end) break;
      unsigned char b = *p++;
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    ok = false;
    return 0;
  }
  std::uint8_t byte() {
    if (p >= end) {
      ok = false;
      return 0;
    }
    return *p++;
  }
  std::string str() {
    std::uint64_t n = varint();
    if (!ok || n > static_cast<std::uint64_t>(end - p)) {
      ok = false;
      return {};
    }
    std::string s(reinterpret_cast<const char*>(p), n);
    p += n;
    return s;
  }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(byte()) << (8 * i);
    return v;
  }
};

// The journal sorts every line it records (std::sort on them was once the
// largest single cost of the unthrottled client, about 9% of its CPU).
// The varints are written in place, into room for the longest.
void encode_lines(std::string& out, std::vector<std::uint64_t>& lines) {
  thread_local std::vector<std::uint64_t> scratch;
  radix_sort(lines, scratch, [](std::uint64_t x) { return x; });
  const std::size_t start = out.size();
  out.resize(start + max_varint * (lines.size() + 1));
  char* p = put_varint(out.data() + start, lines.size());
  std::uint64_t prev = 0;
  for (auto l : lines) {
    p = put_varint(p, l - prev);
    prev = l;
  }
  out.resize(static_cast<std::size_t>(p - out.data()));
}

template <typename F>
bool decode_lines(cursor& c, F&& each) {
  std::uint64_t n = c.varint();
  std::uint64_t line = 0;
  for (std::uint64_t i = 0; i < n && c.ok; ++i) {
    line += c.varint();
    if (c.ok) each(line);
  }
  return c.ok;
}

std::uint64_t unix_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

}  // namespace

job_identity identify_job(const std::string& input, const std::string& from_type, const std::string& to_type,
                          const std::string& api_version) {
  job_identity id;
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

namespace {
journal_writer_options with_interval(duration sync_interval) {
  journal_writer_options o;
  o.sync_interval = sync_interval;
  return o;
}
}  // namespace

journal_writer::journal_writer(const std::string& path, const job_identity& id, const journal_state* resume,
                               duration sync_interval)
    : journal_writer(path, id, resume, with_interval(sync_interval)) {}

journal_writer::journal_writer(const std::string& path, const job_identity& id, const journal_state* resume,
                               options opts)
    : path_(path), opts_(std::move(opts)), write_inline_(opts_.inline_write_limit > duration::zero()) {
  // Refuse a device, FIFO or directory before opening it for writing (O_TRUNC
  // on a device, or an open that waits for a FIFO's reader).
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && !S_ISREG(info.st_mode))
    throw std::runtime_error(not_a_regular_file(path, info.st_mode));
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK | (resume ? 0 : O_TRUNC);
  fd_ = ::open(path.c_str(), flags, 0600);
  if (fd_ < 0) throw std::runtime_error("cannot write journal '" + path + "': " + errno_text());
  const auto fail = [&](std::string message) {
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error(std::move(message));
  };
  // Again on what was opened: the path may have changed in between.
  if (::fstat(fd_, &info) != 0) fail("cannot write journal '" + path + "': " + errno_text());
  if (!S_ISREG(info.st_mode)) fail(not_a_regular_file(path, info.st_mode));
  if (resume && resume->valid_bytes > 0) {
    // Cut a torn tail so new records follow the last intact one.
    if (::ftruncate(fd_, static_cast<off_t>(resume->valid_bytes)) != 0 || ::lseek(fd_, 0, SEEK_END) < 0)
      fail("cannot write journal '" + path + "': " + errno_text());
  } else {
    if (::ftruncate(fd_, 0) != 0) fail("cannot write journal '" + path + "': " + errno_text());
    std::string h = "H";
    put_varint(h, id.input_size);
    put_varint(h, static_cast<std::uint64_t>(id.input_mtime_ns));
    for (int i = 0; i < 8; ++i) h += static_cast<char>((id.head_hash >> (8 * i)) & 0xff);
    put_str(h, id.from_type);
    put_str(h, id.to_type);
    put_str(h, id.api_version);
    append_record(h);
    // The header is written here, on the calling thread: a journal that
    // cannot take it fails at startup, before any request is sent.
    if (auto err = write_all(buf_)) fail(std::move(*err));
    buf_.clear();
    if (auto err = sync_file()) fail(std::move(*err));
  }
  last_sync_ = clock::now();
  try {
    thread_ = std::thread([this] { writer_loop(); });
  } catch (const std::system_error& e) {
    fail("cannot write journal '" + path + "': no writer thread: " + e.what());
  }
}

journal_writer::~journal_writer() {
  if (fd_ < 0) return;
  try {
    flush(time_point::max());  // what was collected: encoding can only fail to allocate
  } catch (...) {
  }
  {
    std::lock_guard lk(mutex_);
    stopping_ = true;
    sync_requested_ = true;  // the writer writes what is queued, syncs, then ends
  }
  work_.notify_one();
  thread_.join();
  ::close(fd_);
}

void journal_writer::append_record(std::string_view payload) {
  put_u32(buf_, static_cast<std::uint32_t>(payload.size()));
  put_u32(buf_, static_cast<std::uint32_t>(
                    ::crc32(0L, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size()))));
  buf_ += payload;
}

std::optional<std::string> journal_writer::write_all(const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const std::size_t left = data.size() - done;
    ssize_t n = opts_.write ? opts_.write(fd_, data.data() + done, left) : ::write(fd_, data.data() + done, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return "cannot write journal '" + path_ + "': " + errno_text();
    }
    if (n == 0) return "cannot write journal '" + path_ + "': the file took no bytes";
    done += static_cast<std::size_t>(n);
    bytes_.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
    dirty_ = true;
  }
  return std::nullopt;
}

std::optional<std::string> journal_writer::sync_file() {
  if (!dirty_) return std::nullopt;
  for (;;) {
    int r = opts_.sync ? opts_.sync(fd_) : ::fdatasync(fd_);
    if (r == 0) break;
    if (errno == EINTR) continue;
    return "cannot sync journal '" + path_ + "': " + errno_text();
  }
  syncs_.fetch_add(1, std::memory_order_relaxed);
  dirty_ = false;
  return std::nullopt;
}

// The writer thread: takes everything queued at once (so batches that piled
// up during a slow write or sync go out in one write(2) and one fdatasync),
// writes it, syncs when asked, and reports the first failure. After a
// failure it writes nothing more: the file keeps an intact prefix.
void journal_writer::writer_loop() {
  std::string writing;
  std::unique_lock lk(mutex_);
  for (;;) {
    work_.wait(lk, [&] { return !busy_ && (!queued_.empty() || sync_requested_ || stopping_); });
    if (queued_.empty() && !sync_requested_) break;  // stopping, and nothing left
    writing.swap(queued_);  // queued_ takes writing's empty buffer (and capacity)
    const bool sync = std::exchange(sync_requested_, false);
    const bool failed = error_.has_value();
    busy_ = true;
    lk.unlock();
    progress_.notify_all();  // room in the queue for a waiting flush()
    std::optional<std::string> err;
    if (!failed && !writing.empty()) err = write_all(writing);
    if (!failed && !err && sync) err = sync_file();
    writing.clear();
    lk.lock();
    busy_ = false;
    if (err && !error_) error_ = std::move(err);
    if (error_) queued_.clear();
    progress_.notify_all();
  }
}

bool journal_writer::enqueue(bool sync) {
  std::unique_lock lk(mutex_);
  if (error_) {
    buf_.clear();
    return false;
  }
  if (!buf_.empty() && write_inline_ && !busy_ && queued_.empty() && !sync_requested_) {
    // The writer thread is idle: write here, so that what flush() returns
    // from is in the file (kill -9 then loses only requests in flight). A
    // write(2) into the page cache takes microseconds; one that took longer
    // than options::inline_write_limit means a slow disk, and the writer
    // thread takes every write from then on.
    busy_ = true;  // the writer thread leaves the file alone meanwhile
    lk.unlock();
    const auto started = std::chrono::steady_clock::now();
    auto err = write_all(buf_);
    const bool slow = std::chrono::steady_clock::now() - started > opts_.inline_write_limit;
    buf_.clear();
    lk.lock();
    busy_ = false;
    if (slow) write_inline_ = false;
    if (err && !error_) error_ = std::move(err);
    if (error_) {
      lk.unlock();
      progress_.notify_all();  // a drain() elsewhere sees the failure
      return false;
    }
  }
  if (!buf_.empty()) {
    // A disk slower than the network: wait for room rather than grow memory.
    progress_.wait(lk, [&] { return queued_.size() < opts_.max_queued || error_; });
    if (error_) {
      buf_.clear();
      return false;
    }
    if (queued_.empty()) {
      queued_.swap(buf_);  // buf_ takes queued_'s empty buffer (and capacity)
    } else {
      queued_ += buf_;
      buf_.clear();
    }
  } else if (!sync) {
    return true;
  }
  if (sync) sync_requested_ = true;
  lk.unlock();
  work_.notify_one();
  return true;
}

void journal_writer::run_started() {
  std::string r = "R";
  put_varint(r, unix_ms());
  append_record(r);
  unsynced_ = true;
  enqueue(false);
}
void journal_writer::sent(std::uint64_t line) { sent_.push_back(line); }

void journal_writer::sent(std::span<const std::uint64_t> lines) {
  for (auto line : lines) {
    if (line != 0) sent_.push_back(line);
  }
}

void journal_writer::settled(settled_outcome outcome, std::string_view category, std::uint64_t line) {
  settled(outcome, category, std::span<const std::uint64_t>(&line, 1));
}

void journal_writer::settled(settled_outcome outcome, std::string_view category, std::span<const std::uint64_t> lines) {
  auto matches = [&](const settled_group& g) { return g.outcome == outcome && g.category == category; };
  if (last_group_ >= settled_.size() || !matches(settled_[last_group_])) {
    last_group_ = 0;
    while (last_group_ < settled_.size() && !matches(settled_[last_group_])) ++last_group_;
    if (last_group_ == settled_.size()) settled_.push_back({outcome, std::string(category), {}});
  }
  auto& into = settled_[last_group_].lines;
  for (auto line : lines) {
    if (line != 0) into.push_back(line);
  }
}

bool journal_writer::flush(time_point now) {
  if (!sent_.empty()) {
    record_.assign(1, 'T');
    encode_lines(record_, sent_);
    append_record(record_);
    sent_.clear();
  }
  for (auto& g : settled_) {
    if (g.lines.empty()) continue;
    record_.assign(1, 'S');
    record_ += static_cast<char>(g.outcome);
    put_str(record_, g.category);
    encode_lines(record_, g.lines);
    append_record(record_);
    g.lines.clear();  // keep the group (and its capacity) for the next flush
  }
  if (!buf_.empty()) unsynced_ = true;
  const bool sync = unsynced_ && now != time_point::max() && now - last_sync_ >= opts_.sync_interval;
  if (sync) {
    last_sync_ = now;
    unsynced_ = false;
  }
  return enqueue(sync);
}

bool journal_writer::run_ended(bool finished) {
  flush(time_point::max());
  std::string e = "E";
  put_varint(e, unix_ms());
  e += static_cast<char>(finished ? 1 : 0);
  append_record(e);
  enqueue(false);
  return drain();
}

bool journal_writer::drain() {
  std::unique_lock lk(mutex_);
  if (!error_) {
    sync_requested_ = true;
    work_.notify_one();
  }
  progress_.wait(lk, [&] { return error_ || (queued_.empty() && !busy_ && !sync_requested_); });
  unsynced_ = false;
  return !error_;
}

std::optional<std::string> journal_writer::error() const {
  std::lock_guard lk(mutex_);
  return error_;
}

}  // namespace hubbatch::engine
