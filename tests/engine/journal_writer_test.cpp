// The journal writer's thread and failures (issue 12, item 4 "Hazards"):
// a slow disk never stalls the calling (network) thread, a write or sync
// failure is a value rather than an exception, and a path that is not a
// regular file is refused with a clear error. The format itself is tested
// in journal_test.cpp.
#include "engine/journal.hpp"

#include "support/journal_fixture.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>
#include <future>
#include <new>
#include <stdexcept>

#include <sys/stat.h>
#include <unistd.h>

using namespace hubbatch::engine;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using temp_file = hubbatch::test::journal_path;
using hubbatch::test::sample_identity;

// A hook that blocks the writer thread once, when armed, until released:
// the test sees it start, acts while it is blocked, then lets it go. It
// gives up after a while (and says so) instead of hanging the suite when
// the code under test calls it on the test's own thread.
struct gate {
  std::atomic<bool> armed{false};
  std::atomic<bool> gave_up{false};
  std::promise<void> started;
  std::future<void> started_f = started.get_future();
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();

  void pass() {
    if (!armed.exchange(false)) return;
    started.set_value();
    if (released.wait_for(5s) != std::future_status::ready) gave_up = true;
  }
  bool wait_started() { return started_f.wait_for(10s) == std::future_status::ready; }
};

void expect_settled_exactly(const journal_state& st, std::uint64_t first, std::uint64_t last) {
  EXPECT_EQ(st.settled.size(), last - first + 1);
  for (std::uint64_t l = first; l <= last; ++l) EXPECT_TRUE(st.settled.contains(l)) << l;
}

}  // namespace

// Issue 12: journal writes and fdatasync ran on the network thread, so a
// slow disk stalled every connection. Now flush() hands the bytes to the
// writer thread: while that thread is inside a (blocked) fdatasync, 200
// flushes return, and the batches that piled up share one write and one sync.
TEST(journal_writer, issue12_flush_returns_while_a_sync_is_in_progress) {
  temp_file f("slow-sync");
  gate g;
  journal_writer::options o;
  o.sync_interval = duration::zero();  // every flush asks for a sync
  o.sync = [&](int fd) {
    g.pass();
    return ::fdatasync(fd);
  };
  {
    journal_writer w(f.path, sample_identity(), nullptr, o);
    ASSERT_EQ(w.syncs(), 1u) << "the header is synced at creation";
    w.run_started();
    g.armed = true;
    w.sent(1);
    w.settled(settled_outcome::archived, {}, 1);
    EXPECT_TRUE(w.flush(clock::now()));
    ASSERT_TRUE(g.wait_started()) << "the writer thread syncs";
    for (std::uint64_t l = 2; l <= 201; ++l) {
      w.sent(l);
      w.settled(settled_outcome::archived, {}, l);
      EXPECT_TRUE(w.flush(clock::now()));
    }
    EXPECT_EQ(w.syncs(), 1u) << "the slow sync is still in progress";
    g.release.set_value();
    EXPECT_TRUE(w.run_ended(true)) << w.error().value_or("");
    EXPECT_FALSE(g.gave_up) << "the sync hook ran on the flushing thread: flush() waited for the disk";
    EXPECT_FALSE(w.error());
    // header, the slow one, one for the 200 batches queued meanwhile, the end
    EXPECT_LE(w.syncs(), 4u);
  }
  auto st = read_journal(f.path);
  ASSERT_TRUE(st);
  EXPECT_FALSE(st->torn_tail);
  EXPECT_TRUE(st->finished);
  EXPECT_EQ(st->runs, 1u);
  EXPECT_EQ(st->sent.size(), 201u);
  EXPECT_EQ(st->archived, 201u);
  expect_settled_exactly(*st, 1, 201);
}

// The memory queued for a slow disk is bounded: past options::max_queued
// bytes waiting, flush() waits for the writer (the disk paces the run).
TEST(journal_writer, issue12_a_full_queue_makes_flush_wait_for_the_disk) {
  temp_file f("full-queue");
  gate g;
  journal_writer::options o;
  o.max_queued = 1;                          // one waiting batch fills the queue
  o.inline_write_limit = duration::zero();  // every write on the writer thread
  o.write = [&](int fd, const char* p, std::size_t n) {
    g.pass();
    return ::write(fd, p, n);
  };
  {
    journal_writer w(f.path, sample_identity(), nullptr, o);
    g.armed = true;
    w.settled(settled_outcome::archived, {}, 1);
    EXPECT_TRUE(w.flush(clock::now()));
    ASSERT_TRUE(g.wait_started()) << "the writer thread writes batch 1";
    w.settled(settled_outcome::archived, {}, 2);
    EXPECT_TRUE(w.flush(clock::now())) << "batch 2 waits in the queue";
    auto third = std::async(std::launch::async, [&] {
      w.settled(settled_outcome::archived, {}, 3);
      return w.flush(clock::now());
    });
    EXPECT_EQ(third.wait_for(200ms), std::future_status::timeout) << "the queue is full: flush() must wait";
    g.release.set_value();
    EXPECT_TRUE(third.get());
    EXPECT_TRUE(w.run_ended(true));
    EXPECT_FALSE(g.gave_up);
  }
  auto st = read_journal(f.path);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->finished);
  expect_settled_exactly(*st, 1, 3);
}

// kill -9 loses no settled batch while the writer thread is idle: flush()
// then writes it itself, and it is in the file when flush() returns (the
// writer thread only syncs). resume_test's kill -9 test relies on this.
TEST(journal_writer, a_batch_is_in_the_file_when_flush_returns_while_the_writer_thread_is_idle) {
  temp_file f("inline");
  journal_writer w(f.path, sample_identity(), nullptr);
  w.run_started();
  for (std::uint64_t l = 1; l <= 3; ++l) {
    w.sent(l);
    w.settled(settled_outcome::archived, {}, l);
    ASSERT_TRUE(w.flush(clock::now()));
    auto st = read_journal(f.path);  // what kill -9 now would leave
    ASSERT_TRUE(st);
    EXPECT_FALSE(st->torn_tail);
    expect_settled_exactly(*st, 1, l);
  }
}

// A slow write(2) must not stall the calling thread twice: after one inline
// write slower than options::inline_write_limit, the writer thread takes
// every write.
TEST(journal_writer, a_slow_inline_write_hands_later_writes_to_the_writer_thread) {
  temp_file f("slow-write");
  const auto test_thread = std::this_thread::get_id();
  std::atomic<bool> slow_next{false};
  std::mutex m;
  std::vector<bool> on_test_thread;  // per write after the header
  journal_writer::options o;
  o.inline_write_limit = std::chrono::milliseconds(1);
  o.write = [&](int fd, const char* p, std::size_t n) {
    if (slow_next.exchange(false)) std::this_thread::sleep_for(20ms);  // surely slower than the limit
    {
      std::lock_guard lk(m);
      on_test_thread.push_back(std::this_thread::get_id() == test_thread);
    }
    return ::write(fd, p, n);
  };
  journal_writer w(f.path, sample_identity(), nullptr, o);
  {
    std::lock_guard lk(m);
    on_test_thread.clear();
  }
  slow_next = true;
  w.settled(settled_outcome::archived, {}, 1);
  EXPECT_TRUE(w.flush(clock::now()));
  w.settled(settled_outcome::archived, {}, 2);
  EXPECT_TRUE(w.flush(clock::now()));
  EXPECT_TRUE(w.drain());
  {
    std::lock_guard lk(m);
    ASSERT_EQ(on_test_thread.size(), 2u);
    EXPECT_TRUE(on_test_thread[0]) << "the writer thread was idle: flush() wrote";
    EXPECT_FALSE(on_test_thread[1]) << "after a slow write, the writer thread writes";
  }
  EXPECT_TRUE(w.run_ended(true));
  auto st = read_journal(f.path);
  ASSERT_TRUE(st);
  expect_settled_exactly(*st, 1, 2);
}

// Issue 12: a journal on a full filesystem ended the run with an exception
// ("cannot write journal '…': No space left on device", exit 2, no report).
// Now the failure is a value the run's owner stops on: nothing throws, the
// first error is kept, nothing after it is written, and the file reads as a
// valid (unfinished) prefix that a resumed run continues.
TEST(journal_writer, issue12_a_write_failure_is_a_value_and_the_file_keeps_an_intact_prefix) {
  temp_file f("enospc");
  gate g;
  std::atomic<bool> fail_next{false};  // one write fails; the disk has room again after it
  journal_writer::options o;
  o.inline_write_limit = duration::zero();  // every write on the writer thread
  o.write = [&](int fd, const char* p, std::size_t n) -> ssize_t {
    g.pass();
    if (fail_next.exchange(false)) {
      errno = ENOSPC;
      return -1;
    }
    return ::write(fd, p, n);
  };
  const std::string expected = "cannot write journal '" + f.path + "': No space left on device";
  {
    journal_writer w(f.path, sample_identity(), nullptr, o);
    w.run_started();
    w.settled(settled_outcome::archived, {}, 1);
    EXPECT_TRUE(w.flush(clock::now()));
    ASSERT_TRUE(w.drain()) << "batch 1 is on disk";
    const auto written = w.bytes_written();

    // Batch 2's write fails; batch 3 is queued before the failure is known.
    fail_next = true;
    g.armed = true;
    w.settled(settled_outcome::archived, {}, 2);
    EXPECT_NO_THROW(w.flush(clock::now()));
    ASSERT_TRUE(g.wait_started());
    w.settled(settled_outcome::archived, {}, 3);
    EXPECT_NO_THROW(w.flush(clock::now()));
    g.release.set_value();
    EXPECT_FALSE(w.drain());
    ASSERT_TRUE(w.error());
    EXPECT_EQ(*w.error(), expected);

    // After the failure: nothing is written, nothing throws.
    w.settled(settled_outcome::archived, {}, 4);
    bool healthy = true;
    EXPECT_NO_THROW(healthy = w.flush(clock::now()));
    EXPECT_FALSE(healthy) << "flush() reports the failed journal";
    EXPECT_FALSE(w.run_ended(true)) << "the journal is incomplete";
    EXPECT_EQ(w.error(), expected) << "the first error is kept";
    EXPECT_EQ(w.bytes_written(), written) << "nothing after the failure is written";
    EXPECT_FALSE(g.gave_up);
  }
  auto st = read_journal(f.path);
  ASSERT_TRUE(st);
  EXPECT_FALSE(st->torn_tail);
  EXPECT_FALSE(st->finished) << "no 'E' record after the failure";
  expect_settled_exactly(*st, 1, 1);
  {
    journal_writer w(f.path, sample_identity(), &*st);
    w.run_started();
    w.settled(settled_outcome::archived, {}, std::vector<std::uint64_t>{2, 3, 4});
    EXPECT_TRUE(w.run_ended(true));
  }
  auto resumed = read_journal(f.path);
  ASSERT_TRUE(resumed);
  EXPECT_TRUE(resumed->finished);
  EXPECT_EQ(resumed->runs, 2u);
  expect_settled_exactly(*resumed, 1, 4);
}

// A write that fails halfway leaves a torn last record: the reader ignores
// it, and a resumed run cuts it before appending.
TEST(journal_writer, issue12_a_write_failing_halfway_leaves_a_torn_tail_that_resume_cuts) {
  temp_file f("torn-write");
  std::atomic<int> mode{0};  // 0 pass, 1 write half then fail, 2 fail
  journal_writer::options o;
  o.write = [&](int fd, const char* p, std::size_t n) -> ssize_t {
    int m = mode.load();
    if (m == 1 && n > 1) {
      mode = 2;
      return ::write(fd, p, n / 2);
    }
    if (m != 0) {
      errno = EIO;
      return -1;
    }
    return ::write(fd, p, n);
  };
  {
    journal_writer w(f.path, sample_identity(), nullptr, o);
    w.run_started();
    w.settled(settled_outcome::archived, {}, 1);
    w.flush(clock::now());
    ASSERT_TRUE(w.drain());
    mode = 1;
    w.settled(settled_outcome::failed, "HTTP_500", std::vector<std::uint64_t>{2, 3, 4, 5});
    EXPECT_FALSE(w.flush(clock::now())) << "written inline (the writer thread is idle): the failure shows at once";
    EXPECT_FALSE(w.run_ended(false));
    EXPECT_EQ(w.error(), "cannot write journal '" + f.path + "': Input/output error");
  }
  auto st = read_journal(f.path);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->torn_tail);
  expect_settled_exactly(*st, 1, 1);
  {
    journal_writer w(f.path, sample_identity(), &*st);
    w.run_started();
    w.settled(settled_outcome::archived, {}, 2);
    EXPECT_TRUE(w.run_ended(false));
  }
  auto resumed = read_journal(f.path);
  ASSERT_TRUE(resumed);
  EXPECT_FALSE(resumed->torn_tail);
  expect_settled_exactly(*resumed, 1, 2);
}

// fdatasync failing (EIO: the data may never reach the disk) is the same kind
// of failure, named as a sync.
TEST(journal_writer, issue12_a_sync_failure_is_a_value) {
  temp_file f("eio-sync");
  std::atomic<bool> broken{false};
  journal_writer::options o;
  o.sync = [&](int fd) {
    if (broken) {
      errno = EIO;
      return -1;
    }
    return ::fdatasync(fd);
  };
  journal_writer w(f.path, sample_identity(), nullptr, o);
  w.run_started();
  broken = true;
  w.settled(settled_outcome::archived, {}, 1);
  EXPECT_NO_THROW(w.flush(clock::now()));
  EXPECT_FALSE(w.run_ended(true));
  EXPECT_EQ(w.error(), "cannot sync journal '" + f.path + "': Input/output error");
}

// A write failure while writing the header is a startup failure: it throws.
TEST(journal_writer, a_header_that_cannot_be_written_throws_at_creation) {
  temp_file f("header");
  journal_writer::options o;
  o.write = [](int, const char*, std::size_t) -> ssize_t {
    errno = ENOSPC;
    return -1;
  };
  try {
    journal_writer w(f.path, sample_identity(), nullptr, o);
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot write journal '" + f.path + "': No space left on device");
  }
}

namespace {

void expect_not_a_regular_file(const std::string& path, const std::function<void()>& open_it) {
  try {
    open_it();
    ADD_FAILURE() << path << ": no exception";
  } catch (const std::bad_alloc&) {
    ADD_FAILURE() << path << ": std::bad_alloc";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'" + path + "'"), std::string::npos) << what;
    EXPECT_NE(what.find("not a regular file"), std::string::npos) << what;
  }
}

}  // namespace

// Issue 12: `--journal /dev/full` printed "std::bad_alloc" (the reader
// appended /dev/full's endless zeros until memory ran out); a FIFO blocked
// the open, a directory gave a vague error. Each is refused by name, before
// a byte is read or written.
TEST(journal_writer, issue12_a_path_that_is_not_a_regular_file_is_refused) {
  temp_file dir("dir"), fifo("fifo");
  fs::create_directory(dir.path);
  ASSERT_EQ(::mkfifo(fifo.path.c_str(), 0600), 0);
  std::vector<std::string> paths = {dir.path, fifo.path};
  if (fs::exists("/dev/full")) paths.push_back("/dev/full");
  if (fs::exists("/dev/null")) paths.push_back("/dev/null");
  for (const auto& path : paths) {
    SCOPED_TRACE(path);
    expect_not_a_regular_file(path, [&] { read_journal(path); });
    expect_not_a_regular_file(path, [&] { journal_writer w(path, sample_identity(), nullptr); });
    journal_state st;  // a resume does not open it either
    st.valid_bytes = 10;
    expect_not_a_regular_file(path, [&] { journal_writer w(path, sample_identity(), &st); });
  }
  EXPECT_TRUE(fs::is_fifo(fifo.path)) << "untouched";
  EXPECT_TRUE(fs::is_empty(dir.path));
}
