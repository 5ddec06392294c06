// Writing a journal: records encoded on the caller's thread, written and
// synced on a writer thread when the disk is slow (engine/journal.hpp).
#include "engine/journal.hpp"

#include "engine/journal_format.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hubbatch::engine {

using namespace journal_format;

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
    put_str(h, id.operation);
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
