// Issue 12: hazards found in a read of the engine, each closed and held
// here against the sandbox over TLS on 127.0.0.1.
#include "cli/exit_codes.hpp"
#include "engine/job.hpp"

#include "sandbox/config.hpp"
#include "sandbox/server.hpp"
#include "support/engine_job.hpp"
#include "support/process.hpp"
#include "support/test_data.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace hubbatch;
namespace fs = std::filesystem;

namespace {

using test::make_pairs;
using test::temp_dir;
using test::write_csv;
using test::sandbox_with;
using test::job_for;
using test::options_for;

std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

}  // namespace

// Every response used to wake every waiting coroutine: O(connections)
// resumes per response. Now a response wakes one session (a slot was
// released), a batch added wakes one, a batch taken wakes the feeder.
TEST(issue_12, a_response_wakes_a_bounded_number_of_coroutines_whatever_the_connections) {
  auto pairs = make_pairs(40'000, 1);
  sandbox::background_sandbox sb(sandbox_with(pairs));
  temp_dir dir;
  auto cfg = job_for(sb, write_csv(dir.file("pairs.csv"), pairs));
  cfg.connections = 64;
  cfg.batch_size = 10;  // many requests
  cfg.rate = engine::rate_mode::fixed;  // sessions wait for slots most of the time
  cfg.rate_max = 16;
  cfg.rate_window = std::chrono::milliseconds(10);
  auto r = engine::run_job(cfg, options_for(sb));
  ASSERT_EQ(cli::decide_exit(r, false).code, 0) << r.stop_message;
  ASSERT_GT(r.totals.requests, 500u);
  EXPECT_LT(static_cast<double>(r.wakeups) / static_cast<double>(r.totals.requests), 4.0)
      << r.wakeups << " wake-ups for " << r.totals.requests << " requests";
}

// A session used to take its batch before it held a rate slot: batches
// waited invisibly in session frames, and a "too many inputs" re-split
// missed them, so each went out at the old size and drew its own 400.
TEST(issue_12, batches_wait_in_the_queue_so_a_resplit_reaches_them_all) {
  auto pairs = make_pairs(8'000, 1);  // about 2,000 from-ids: 20 batches of 100 inputs
  auto sc = sandbox_with(pairs);
  sc.max_inputs = sandbox::input_limits::all(50);
  sandbox::background_sandbox sb(sc);
  temp_dir dir;
  auto cfg = job_for(sb, write_csv(dir.file("pairs.csv"), pairs));
  cfg.connections = 8;
  cfg.rate = engine::rate_mode::fixed;  // one request at a time: the others wait for a slot
  cfg.rate_max = 1;
  cfg.rate_window = std::chrono::milliseconds(20);
  auto r = engine::run_job(cfg, options_for(sb));
  ASSERT_EQ(cli::decide_exit(r, false).code, 0) << r.stop_message;
  EXPECT_EQ(sb.stats().by_status[400], 1u) << "one refused request halves every batch waiting";
  EXPECT_TRUE(sb.remaining_pairs("contacts", "companies").empty());
}

// A read error while feeding used to leave the input's descriptor open.
TEST(issue_12, an_input_that_fails_mid_read_leaves_no_descriptor_open) {
  sandbox::background_sandbox sb(sandbox_with({}));
  temp_dir dir;
  const std::string path = dir.file("bad.csv.gz");
  {
    std::ofstream out(path, std::ios::binary);
    const unsigned char head[] = {0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03};
    out.write(reinterpret_cast<const char*>(head), sizeof head);
    out << std::string(1000, '\xff');  // not deflate data
  }
  auto cfg = job_for(sb, path);
  const std::size_t before = open_fds();
  for (int i = 0; i < 5; ++i) EXPECT_THROW(engine::run_job(cfg, options_for(sb)), std::runtime_error);
  EXPECT_EQ(open_fds(), before);
}

// A failures file that cannot be written (a full disk) used to end the run
// without a report; now it is a stop like any other: drained, counted,
// pairs pending, resumable.
TEST(issue_12, a_failures_file_on_a_full_disk_stops_the_run_cleanly) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  auto pairs = make_pairs(20'000, 1);
  auto sc = sandbox_with(pairs);
  sc.fault_5xx = 1.0;  // every pair fails, so the failures file fills its buffer
  sandbox::background_sandbox sb(sc);
  temp_dir dir;
  auto cfg = job_for(sb, write_csv(dir.file("pairs.csv"), pairs));
  cfg.max_retries = 0;
  cfg.connections = 2;
  cfg.failures_path = "/dev/full";
  cfg.journal_path = dir.file("journal");
  auto r = engine::run_job(cfg, options_for(sb));
  EXPECT_EQ(r.stop, engine::stop_reason::local_io);
  EXPECT_NE(r.stop_message.find("No space left on device"), std::string::npos) << r.stop_message;
  EXPECT_EQ(r.invariant_error, "");
  EXPECT_GT(r.totals.pending_pairs, 0u);
  EXPECT_EQ(cli::decide_exit(r, false).code, 3);
}

// A gzip error while feeding from a pipe destroyed the frame that held the
// pipe's descriptor, and the stop that followed cancelled it through a
// dangling pointer (a use-after-free under ASan). Now a clean exit 2.
TEST(issue_12, a_gzip_error_on_a_pipe_ends_cleanly) {
  temp_dir dir;
  const std::string path = dir.file("bad.gz");
  {
    std::ofstream out(path, std::ios::binary);
    const unsigned char head[] = {0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03};
    out.write(reinterpret_cast<const char*>(head), sizeof head);
    out << std::string(1000, '\xff');
  }
  test::process_spec s;
  s.args = {"/bin/sh", "-c",
            "cat '" + path + "' | exec '" + std::string(HUBBATCH_BINARY) +
                "' archive --from-type contacts --to-type companies --input - --base-url https://127.0.0.1:9 --rate 0"};
  s.env = {{"HUBSPOT_ACCESS_TOKEN", "pat-test"}};
  s.stderr_path = dir.file("err.txt");
  EXPECT_EQ(test::run(s), 2);
  const std::string err = test::slurp(dir.file("err.txt"));
  EXPECT_NE(err.find("<stdin>"), std::string::npos) << err;
}
