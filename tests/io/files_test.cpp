#include "io/files.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using hubbatch::io::read_file;
using hubbatch::io::write_file_atomic;

namespace {

struct scratch_dir {
  fs::path dir;
  scratch_dir() {
    dir = fs::path(::testing::TempDir()) /
          ("files_test." + std::to_string(::getpid()) + "." +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~scratch_dir() { fs::remove_all(dir); }
  std::string file(const char* name) const { return (dir / name).string(); }
  // Every entry but `keep`: a failed write must leave no temporary behind.
  std::size_t entries() const {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
    return n;
  }
};

// The message of the std::runtime_error `f` throws ("" when it throws none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(files, write_file_atomic_replaces_the_whole_file) {
  scratch_dir d;
  const auto p = d.file("report.json");
  write_file_atomic(p, "a long first version\n");
  write_file_atomic(p, "short\n");
  EXPECT_EQ(read_file(p), "short\n");
  EXPECT_EQ(d.entries(), 1u) << "no temporary left next to it";
  write_file_atomic(p, "");
  EXPECT_EQ(read_file(p), "");
}

TEST(files, read_file_names_the_path_and_cause) {
  scratch_dir d;
  EXPECT_EQ(error_of([&] { read_file(d.file("absent.pem")); }),
            "cannot read '" + d.file("absent.pem") + "': No such file or directory");
  EXPECT_EQ(error_of([&] { read_file(d.dir.string()); }), "cannot read '" + d.dir.string() + "': Is a directory");
}

TEST(files, write_failures_name_the_path_and_cause_and_leave_the_old_file) {
  scratch_dir d;
  const auto missing = d.file("no-such-dir/report.json");
  EXPECT_EQ(error_of([&] { write_file_atomic(missing, "x"); }),
            "cannot write '" + missing + "': No such file or directory");
  // A directory where the file should go: the rename fails, the temporary goes.
  fs::create_directory(d.dir / "taken");
  const auto taken = d.file("taken");
  EXPECT_EQ(error_of([&] { write_file_atomic(taken, "x"); }), "cannot write '" + taken + "': Is a directory");
  EXPECT_EQ(d.entries(), 1u) << "the temporary is removed";
}

// A disk that fills while writing: the file size limit makes write(2) fail
// (EFBIG) the way a full disk does (ENOSPC), in a child so the limit and the
// ignored SIGXFSZ stay there.
TEST(files, a_write_that_fails_midway_throws_and_keeps_the_old_file) {
  scratch_dir d;
  const auto p = d.file("metrics.prom");
  write_file_atomic(p, "old\n");
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit small{1024, 1024};
    ::setrlimit(RLIMIT_FSIZE, &small);
    std::string msg = error_of([&] { write_file_atomic(p, std::string(64 * 1024, 'x')); });
    ::_exit(msg == "cannot write '" + p + "': File too large" ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "the child crashed";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the failure was not a runtime_error naming the path and the cause";
  EXPECT_EQ(read_file(p), "old\n");
  EXPECT_EQ(d.entries(), 1u) << "the temporary is removed";
}
