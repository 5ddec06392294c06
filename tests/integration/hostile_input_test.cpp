// Issue 7: hostile input through a real job against the sandbox. Each bad
// line is rejected with its reason (never sent), good lines around it are
// archived, and the books balance; a 1 GB line is skipped with bounded
// memory; a file that grows or is truncated while being read ends with a
// warning and its possibly cut last line rejected, never archived as a
// different pair.
#include "cli/exit_codes.hpp"
#include "engine/job.hpp"

#include "integration/hardening.hpp"
#include "io/pair_reader.hpp"
#include "sandbox/config.hpp"
#include "sandbox/server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

using namespace hubbatch;

namespace {

sandbox::config sandbox_seeded(std::vector<pair_id> pairs) {
  sandbox::config c;
  c.listen_host = "127.0.0.1";
  c.listen_port = 0;
  c.rate = *sandbox::parse_rate("0");
  c.tokens = {"pat-na1-test-token"};
  sandbox::seed_spec s;
  s.pairs = std::move(pairs);
  c.seeds.push_back(std::move(s));
  return c;
}

engine::archive_config job_on(const sandbox::background_sandbox& sb, const std::string& input) {
  auto cfg = test::short_job(sb.base_url(), input);
  cfg.request_timeout = std::chrono::seconds(30);
  cfg.connections = 2;
  return cfg;
}

std::uint64_t peak_rss() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

std::uint64_t reason_count(const engine::counters& c, io::reject_reason r) {
  auto it = c.rejected_by_reason.find(io::to_string(r));
  return it == c.rejected_by_reason.end() ? 0 : it->second;
}

}  // namespace

TEST(hostile_input, every_bad_id_is_rejected_by_reason_and_good_lines_archived) {
  sandbox::background_sandbox sb(sandbox_seeded({{101, 9001}, {102, 9002}, {103, 9003}, {104, 9004}}));
  test::scratch_dir dir;
  std::string text;
  text += "from_id,to_id\n";
  text += "101,9001\r\n";                                     // CRLF: fine
  text += "000000000000000000000000101,9001\n";               // leading zeros beyond 20 digits
  text += "00000000000000000102,9002\n";                       // 20 digits with leading zeros: id 102
  text += "-101,9001\n";                                      // negative
  text += "101,-9001\n";
  text += "\xd9\xa1\xd9\xa0\xd9\xa3,9003\n";                  // Arabic-Indic digits "103"
  text += "\xef\xbc\x91\xef\xbc\x90\xef\xbc\x93,9003\n";      // fullwidth "103"
  text += std::string("103\0,9003\n", 10);                    // NUL byte
  text += "103\r,9003\n";                                     // a CR inside the line
  text += "103,9003\r\r\n";                                   // two CRs before the LF
  text += "18446744073709551616,9003\n";                      // 2^64
  text += "1e3,9003\n";                                       // exponent
  text += "0x67,9003\n";                                      // hex
  text += "+103,9003\n";                                      // plus sign
  text += "103,9003\n";                                       // good
  text += "\xff\xfe" "104,9004\n";                            // invalid UTF-8
  text += "104,9004";                                         // good, no final newline
  auto cfg = job_on(sb, test::write_text(dir.file("pairs.csv"), text));
  cfg.failures_path = dir.file("failures.csv");

  auto r = engine::run_job(cfg, test::quiet_options(sb.ca_pem()));

  test::expect_balanced(r);
  const auto& c = r.totals;
  EXPECT_EQ(c.input_pairs, 17u);
  EXPECT_EQ(c.done_pairs, 4u);  // 101, 102 (20-digit form), 103, 104
  EXPECT_EQ(c.rejected_pairs, 13u);
  EXPECT_EQ(reason_count(c, io::reject_reason::bad_id), 10u);
  EXPECT_EQ(reason_count(c, io::reject_reason::id_out_of_range), 1u);
  EXPECT_EQ(reason_count(c, io::reject_reason::nul_byte), 1u);
  EXPECT_EQ(reason_count(c, io::reject_reason::invalid_utf8), 1u);
  EXPECT_EQ(cli::decide_exit(r, false).code, 1);
  EXPECT_TRUE(sb.remaining_pairs("contacts", "companies").empty());
  // Each rejection is in the failures file with its line number and reason,
  // bytes shown escaped (the file stays one line per rejection).
  auto failures = test::read_text(cfg.failures_path);
  EXPECT_NE(failures.find("line 3: id is not 1-20 decimal digits: 000000000000000000000000101"), std::string::npos)
      << failures;
  EXPECT_NE(failures.find("line 9: NUL byte in line: 103\\x00,9003"), std::string::npos) << failures;
  EXPECT_NE(failures.find("\\xD9\\xA1"), std::string::npos) << failures;
  std::size_t lines = 0;
  for (char ch : failures) lines += ch == '\n';
  EXPECT_EQ(lines, 1u + 13u) << failures;
}

TEST(hostile_input, ndjson_hostile_values_are_rejected) {
  sandbox::background_sandbox sb(sandbox_seeded({{5, 6}}));
  test::scratch_dir dir;
  std::string text =
      "{\"from\":\"5\",\"to\":\"6\"}\r\n"
      "{\"from\":-5,\"to\":6}\n"
      "{\"from\":\"000000000000000000000005\",\"to\":\"6\"}\n"
      "{\"from\":\"\\u0035\",\"to\":\"6\"}\n"
      "{\"from\":5.0,\"to\":6}\n"
      "{\"from\":\"5\",\"to\":\"6\"}{\"from\":\"7\",\"to\":\"8\"}\n"
      "{\"from\":\"5\",\"to\":\"6\",}\n";
  text += std::string("{\"from\":\"5\0\",\"to\":\"6\"}\n", 23);
  auto cfg = job_on(sb, test::write_text(dir.file("pairs.ndjson"), text));
  auto r = engine::run_job(cfg, test::quiet_options(sb.ca_pem()));
  test::expect_balanced(r);
  EXPECT_EQ(r.totals.done_pairs, 1u);
  EXPECT_EQ(r.totals.rejected_pairs, 7u);
  EXPECT_EQ(reason_count(r.totals, io::reject_reason::bad_json), 2u);
  EXPECT_EQ(reason_count(r.totals, io::reject_reason::nul_byte), 1u);
}

TEST(hostile_input, a_1_gb_line_is_skipped_with_bounded_memory) {
  sandbox::background_sandbox sb(sandbox_seeded({{1, 2}, {3, 4}}));
  test::scratch_dir dir;
  const std::string path = dir.file("huge.csv");
  {
    // "1,2\n9" + a 1 GiB hole (reads as NUL bytes, takes no disk) + ",2\n3,4\n".
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    const std::string head = "1,2\n9";
    const std::string tail = ",2\n3,4\n";
    const off_t hole = off_t{1} << 30;
    ASSERT_EQ(::pwrite(fd, head.data(), head.size(), 0), static_cast<ssize_t>(head.size()));
    ASSERT_EQ(::pwrite(fd, tail.data(), tail.size(), hole), static_cast<ssize_t>(tail.size()));
    ::close(fd);
  }
  const auto rss_before = peak_rss();
  auto r = engine::run_job(job_on(sb, path), test::quiet_options(sb.ca_pem()));
  const auto growth = peak_rss() - rss_before;
  test::expect_balanced(r);
  EXPECT_EQ(r.totals.input_pairs, 3u);
  EXPECT_EQ(r.totals.done_pairs, 2u);
  EXPECT_EQ(reason_count(r.totals, io::reject_reason::line_too_long), 1u);
  EXPECT_LT(growth, 64ull << 20) << "peak RSS grew by " << (growth >> 20) << " MiB reading a 1 GiB line";
  EXPECT_TRUE(sb.remaining_pairs("contacts", "companies").empty());
}

TEST(hostile_input, a_file_truncated_while_being_read_never_archives_a_cut_line) {
  // The parser sees "101,90" at the end of a file that was "101,9001\n"
  // before it was cut: without the check, 101,90 would be archived.
  test::scratch_dir dir;
  const std::string path = dir.file("cut.csv");
  test::write_text(path, "100,1\n101,9001\n");
  // A job opens and reads in one go, so the cut is staged by hand with the
  // same pieces feed_input uses (input_watch at open, read, changed(),
  // finish): the file is truncated between open and read.
  io::pair_parser parser(io::input_format::csv);
  struct sink : io::pair_sink {
    std::vector<pair_id> pairs;
    std::vector<io::reject_reason> rejects;
    void on_pair(pair_id p, std::uint64_t) override { pairs.push_back(p); }
    void on_reject(std::uint64_t, io::reject_reason r, std::string_view, std::string_view) override {
      rejects.push_back(r);
    }
  } s;
  int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  io::input_watch watch(fd);
  ASSERT_EQ(::truncate(path.c_str(), 12), 0);  // "100,1\n101,90"
  char buf[64];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ASSERT_EQ(n, 12);
  parser.feed(std::string_view(buf, static_cast<std::size_t>(n)), s);
  std::string change = watch.changed(fd, static_cast<std::uint64_t>(n));
  ::close(fd);
  EXPECT_NE(change.find("input changed while being read: 15 bytes when opened, 12 now, 12 read"), std::string::npos)
      << change;
  parser.finish(s, change.empty());
  EXPECT_EQ(s.pairs, (std::vector<pair_id>{{100, 1}}));
  EXPECT_EQ(s.rejects, std::vector<io::reject_reason>{io::reject_reason::truncated_line});
}

TEST(hostile_input, a_growing_file_is_read_consistently_and_balanced) {
  // A writer appends complete lines while the job reads. Whatever the job
  // saw, it archived exactly the complete lines it read, rejected at most the
  // one line it may have caught mid-write, and the books balance.
  std::vector<pair_id> seeded;
  for (std::uint64_t i = 1; i <= 200'000; ++i) seeded.push_back({i, i + 1'000'000});
  sandbox::background_sandbox sb(sandbox_seeded(seeded));
  test::scratch_dir dir;
  const std::string path = dir.file("growing.csv");
  {
    std::ofstream out(path);
    for (std::uint64_t i = 1; i <= 50'000; ++i) out << i << ',' << i + 1'000'000 << '\n';
  }
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    std::ofstream out(path, std::ios::app);
    for (std::uint64_t i = 50'001; i <= 200'000 && !stop; ++i) {
      out << i << ',' << i + 1'000'000;  // the newline goes in a separate write: a reader can catch a cut line
      out.flush();
      out << '\n';
      if (i % 64 == 0) out.flush();
    }
  });
  auto cfg = job_on(sb, path);
  cfg.failures_path = dir.file("failures.csv");
  auto r = engine::run_job(cfg, test::quiet_options(sb.ca_pem()));
  stop = true;
  writer.join();
  test::expect_balanced(r);
  EXPECT_GE(r.totals.input_pairs, 50'000u);
  EXPECT_LE(r.totals.rejected_pairs, 1u);
  EXPECT_EQ(r.totals.failed_pairs, 0u);
  EXPECT_EQ(r.totals.rejected_pairs, reason_count(r.totals, io::reject_reason::truncated_line));
  // Every archived pair is a real line of the file: nothing cut was sent.
  auto left = sb.remaining_pairs("contacts", "companies");
  EXPECT_EQ(left.size(), seeded.size() - r.totals.done_pairs);
}

TEST(hostile_input, read_pairs_file_refuses_a_file_that_changed) {
  // The sandbox seeds through read_pairs_file: a seed file that changes while
  // it is read fails loudly instead of seeding a cut pair. The file is
  // appended to from the sink, so the change lands mid-read every time (a
  // writer thread could lose the race to a fast reader).
  test::scratch_dir dir;
  const std::string path = dir.file("seed.csv");
  std::string big;
  for (int i = 0; i < 200'000; ++i) big += std::to_string(i + 1) + "," + std::to_string(i + 7) + "\n";
  test::write_text(path, big);
  struct appending_sink : io::pair_sink {
    std::string path;
    bool appended = false;
    void on_pair(pair_id, std::uint64_t) override {
      if (appended) return;
      std::ofstream(path, std::ios::app) << "1,2";
      appended = true;
    }
    void on_reject(std::uint64_t, io::reject_reason, std::string_view, std::string_view) override {}
  } s;
  s.path = path;
  bool threw = false;
  try {
    io::read_pairs_file(path, io::input_format::csv, s);
  } catch (const std::runtime_error& e) {
    threw = std::string(e.what()).find("changed while being read") != std::string::npos;
  }
  EXPECT_TRUE(s.appended);
  EXPECT_TRUE(threw);
}
