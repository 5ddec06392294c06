// Issue 14's acceptance: archive --backup B --verify, then create --input B,
// gives back the portal as it was, labels included; under faults, and across
// kill -9 and --resume. And verify finds what an archive that answered
// success kept (--fault-ignore).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "io/files.hpp"
#include "sandbox/config.hpp"
#include "sandbox/server.hpp"
#include "support/engine_job.hpp"
#include "support/export_rows.hpp"
#include "support/process.hpp"
#include "support/test_data.hpp"
#include "support/typed_pairs.hpp"

using namespace hubbatch;

namespace {

using test::temp_dir;

// A labelled portal (USER_DEFINED:36 "Billing contact", Primary) of ~4
// associations a contact, 2 a read page; the archive's input is every other
// contact's pairs but one, so a backup must leave out what is not listed.
struct portal {
  temp_dir dir;
  std::vector<pair_id> seeded;
  std::vector<pair_id> to_archive;  // untyped, as archive takes them
  std::unique_ptr<sandbox::background_sandbox> sb;
  std::vector<pair_id> before;  // the typed listing at the start

  portal(std::size_t n, std::uint64_t seed, void (*faults)(sandbox::config&) = nullptr)
      : seeded(test::make_pairs(n, seed)) {
    sb = test::start_labelled_portal(dir, seeded, faults);
    auto by_from = test::sorted(seeded);
    for (std::size_t i = 0; i < by_from.size(); ++i) {
      const bool keep_contact = by_from[i].from % 2 == 0;
      const bool last_of_contact = i + 1 == by_from.size() || by_from[i + 1].from != by_from[i].from;
      if (!keep_contact && !(last_of_contact && i > 0 && by_from[i - 1].from == by_from[i].from))
        to_archive.push_back(by_from[i]);
    }
    test::write_csv(dir.file("archive.csv"), to_archive);
    before = test::typed_listing(*sb);
  }

  // What the listing holds of the archive's pairs (every type of each).
  std::vector<pair_id> listed_of_archive() const {
    std::set<std::pair<std::uint64_t, std::uint64_t>> asked;
    for (const auto& p : to_archive) asked.emplace(p.from, p.to);
    std::vector<pair_id> out;
    for (const auto& p : test::typed_listing(*sb))
      if (asked.count({p.from, p.to})) out.push_back(p);
    return out;
  }
  std::vector<pair_id> before_of_archive() const {
    std::set<std::pair<std::uint64_t, std::uint64_t>> asked;
    for (const auto& p : to_archive) asked.emplace(p.from, p.to);
    std::vector<pair_id> out;
    for (const auto& p : before)
      if (asked.count({p.from, p.to})) out.push_back(p);
    return out;
  }

  int run(const std::string& command, std::vector<std::string> args) const {
    return test::run(test::binary_spec(*sb, dir, command, std::move(args)));
  }
  std::string err() const { return test::slurp(dir.file("stderr.txt")); }

  // Exports the archive's contacts to `name`; returns its rows, sorted.
  std::vector<std::string> export_rows(const std::string& name) const {
    const auto out = dir.file(name);
    const auto ids = test::write_ids(dir.file("ids.csv"), to_archive);
    EXPECT_EQ(run("export", {"--input", ids, "--output", out, "--overwrite"}), 0) << err();
    return test::sorted_rows(out);
  }
};

// The round trip after the archive: nothing of the input is left, the
// backup holds all of it with labels, restoring it gives the baseline back.
void expect_restored_by_backup(const portal& p, const std::vector<std::string>& baseline) {
  const auto backup = p.dir.file("backup.csv");
  EXPECT_EQ(p.listed_of_archive(), std::vector<pair_id>{}) << "the portal holds none of the archived pairs";
  EXPECT_EQ(test::export_listing(backup), p.before_of_archive());
  EXPECT_EQ(test::wrong_labels(backup), std::vector<std::string>{});
  ASSERT_EQ(p.run("create", {"--input", backup, "--batch-size", "20", "--max-retries", "40"}), 0) << p.err();
  EXPECT_EQ(p.export_rows("after.csv"), baseline);
  EXPECT_EQ(test::typed_listing(*p.sb), p.before);
}

void faults(sandbox::config& sc) {
  sc.rate = *sandbox::parse_rate("60/1s");
  sc.fault_5xx = 0.05;
  sc.fault_reset = 0.04;
  sc.fault_reset_after_apply = 0.04;
  sc.fault_garbage = 0.05;
}

// Every answer late, one association a read page: the backup takes as
// many sequential reads as a contact has associations (up to 7).
void slow_faults(sandbox::config& sc) {
  sc.read_page_size = 1;
  sc.fault_5xx = 0.03;
  sc.fault_reset_after_apply = 0.03;
  sc.fault_slow = 1;
  sc.fault_slow_delay = std::chrono::milliseconds(10);
}

}  // namespace

TEST(backup_roundtrip, archive_with_backup_and_verify_then_restore_gives_the_baseline_back) {
  portal p(1'000, 150);
  ASSERT_GT(p.to_archive.size(), 200u);
  const auto baseline = p.export_rows("baseline.csv");
  ASSERT_GT(baseline.size(), p.to_archive.size()) << "labelled pairs have several rows";

  const auto report = p.dir.file("report.json");
  ASSERT_EQ(p.run("archive", {"--input", p.dir.file("archive.csv"), "--backup", p.dir.file("backup.csv"), "--verify",
                              "--report", report, "--failures", p.dir.file("failures.csv"), "--batch-size", "20"}),
            0)
      << p.err();
  const auto json = test::slurp(report);
  EXPECT_EQ(test::json_u64(json, "still_present_pairs"), 0u) << json;
  const auto backup_at = json.find("\"backup\":");
  ASSERT_NE(backup_at, std::string::npos) << json;
  EXPECT_EQ(test::json_u64(json, "pairs", backup_at), p.to_archive.size()) << json;
  EXPECT_EQ(test::json_u64(json, "rows", backup_at), p.before_of_archive().size()) << json;
  EXPECT_NE(json.find("\"verify\":"), std::string::npos) << json;
  expect_restored_by_backup(p, baseline);
}

TEST(backup_roundtrip, the_same_under_429s_5xx_resets_and_garbage) {
  portal p(800, 151, faults);
  const auto baseline = p.export_rows("baseline.csv");
  ASSERT_EQ(p.run("archive", {"--input", p.dir.file("archive.csv"), "--backup", p.dir.file("backup.csv"), "--verify",
                              "--batch-size", "10", "--max-retries", "40"}),
            0)
      << p.err();
  const auto st = p.sb->stats();
  EXPECT_GT(st.faults.garbage + st.faults.reset_after_apply, 0u);
  expect_restored_by_backup(p, baseline);
}

// kill -9 during the backup and during the archive, --resume until done:
// the backup holds every association the input named.
TEST(backup_roundtrip, sigkill_during_backup_and_archive_then_resume_keeps_every_association) {
  portal p(1'000, 152, slow_faults);
  const auto baseline = p.export_rows("baseline.csv");
  const std::vector<std::string> args{"--input",  p.dir.file("archive.csv"), "--backup", p.dir.file("backup.csv"),
                                      "--report", p.dir.file("report.json"), "--verify", "--batch-size",
                                      "2",        "--connections",           "2",        "--max-retries",
                                      "40"};
  std::mt19937_64 rng(152);
  int kills = 0;
  for (int run = 0; run < 6; ++run) {
    auto a = args;
    if (run > 0) a.push_back("--resume");
    const auto before = p.sb->stats().requests;
    test::process proc(test::binary_spec(*p.sb, p.dir, "archive", a));
    // The first kill lands early (in the backup's reads), later ones anywhere.
    const auto threshold = before + (run == 0 ? 2 : 5 + rng() % 40);
    while (proc.running() && p.sb->stats().requests < threshold)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (!proc.running()) break;
    proc.signal(SIGKILL);
    EXPECT_EQ(proc.wait(), 128 + SIGKILL);
    ++kills;
    if (run == 0) {
      EXPECT_FALSE(std::filesystem::exists(p.dir.file("report.json.journal")))
          << "the first kill must land in the backup's reads, before the archive starts";
    }
  }
  ASSERT_GE(kills, 2) << "the run was too quick to be killed mid-way";
  auto a = args;
  a.push_back("--resume");
  int code = -1;
  for (int i = 0; i < 3 && code != 0; ++i) code = p.run("archive", a);
  ASSERT_EQ(code, 0) << p.err();
  expect_restored_by_backup(p, baseline);
}

// --fault-ignore: the archive answers success but keeps some pairs; verify
// finds exactly those, in the report and in --failures.
TEST(backup_roundtrip, verify_reports_the_pairs_an_archive_kept_despite_success) {
  portal p(1'000, 153, [](sandbox::config& sc) { sc.fault_ignore = 0.05; });
  const auto failures = p.dir.file("failures.csv");
  const auto report = p.dir.file("report.json");
  EXPECT_EQ(p.run("archive", {"--input", p.dir.file("archive.csv"), "--verify", "--report", report, "--failures",
                              failures, "--batch-size", "20"}),
            1)
      << p.err();
  std::set<pair_id> kept;
  for (const auto& q : p.listed_of_archive()) kept.insert({q.from, q.to});
  ASSERT_GT(kept.size(), 0u) << "the sandbox must have kept some";
  EXPECT_EQ(p.sb->stats().ignored_pairs, kept.size());
  const auto json = test::slurp(report);
  EXPECT_EQ(test::json_u64(json, "still_present_pairs"), kept.size()) << json;
  std::set<pair_id> listed;
  for (const auto& row : test::read_failures(failures)) {
    EXPECT_EQ(row.category, "still_present");
    EXPECT_EQ(row.outcome, "failed");
    listed.insert({std::stoull(row.from_id), std::stoull(row.to_id)});
  }
  EXPECT_EQ(listed, kept);
}
