#include "engine/journal.hpp"

#include "support/journal_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <unistd.h>

using namespace hubbatch::engine;
namespace fs = std::filesystem;

namespace {

using temp_file = hubbatch::test::journal_path;
using hubbatch::test::sample_identity;

}  // namespace

TEST(journal, round_trip_of_settled_and_sent_lines) {
  temp_file f("rt");
  {
    journal_writer w(f.path, sample_identity(), nullptr);
    w.run_started();
    for (std::uint64_t l : {5, 3, 9, 1000000}) w.sent(l);
    w.settled(settled_outcome::archived, {}, 5);
    w.settled(settled_outcome::archived, {}, 3);
    w.settled(settled_outcome::failed, "VALIDATION_ERROR", 9);
    w.settled(settled_outcome::rejected, "bad_id", 2);
    w.settled(settled_outcome::duplicate, {}, 7);
    w.settled(settled_outcome::already_absent, {}, 11);
    w.flush(clock::now());
    w.run_ended(false);
  }
  auto st = read_journal(f.path);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->identity, sample_identity());
  EXPECT_EQ(st->runs, 1u);
  EXPECT_FALSE(st->finished);
  EXPECT_FALSE(st->torn_tail);
  EXPECT_EQ(st->archived, 3u);  // 5, 3 and the already-absent 11
  EXPECT_EQ(st->already_absent, 1u);
  EXPECT_EQ(st->failed, 1u);
  EXPECT_EQ(st->failed_by_category.at("VALIDATION_ERROR"), 1u);
  EXPECT_EQ(st->rejected, 1u);
  EXPECT_EQ(st->rejected_by_reason.at("bad_id"), 1u);
  EXPECT_EQ(st->duplicate, 1u);
  for (std::uint64_t l : {2, 3, 5, 7, 9, 11}) EXPECT_TRUE(st->settled.contains(l)) << l;
  EXPECT_FALSE(st->settled.contains(1000000));
  EXPECT_TRUE(st->sent.contains(1000000));
  EXPECT_FALSE(st->sent.contains(4));
}

TEST(journal, torn_tail_is_ignored_and_cut_before_appending) {
  temp_file f("torn");
  {
    journal_writer w(f.path, sample_identity(), nullptr);
    w.run_started();
    w.settled(settled_outcome::archived, {}, 1);
    w.flush(clock::now());
    w.settled(settled_outcome::archived, {}, 2);
    w.flush(clock::now());
  }
  auto full = fs::file_size(f.path);
  // Every possible crash point inside the last record: never trusted, never fatal.
  for (std::uintmax_t cut = 1; cut < 12; ++cut) {
    fs::resize_file(f.path, full - cut);
    auto st = read_journal(f.path);
    ASSERT_TRUE(st);
    EXPECT_TRUE(st->torn_tail);
    EXPECT_TRUE(st->settled.contains(1));
    EXPECT_FALSE(st->settled.contains(2));
  }
  // Garbage appended (a torn write of random bytes) is ignored as well.
  {
    std::ofstream out(f.path, std::ios::app | std::ios::binary);
    out << "\x10\x00\x00\x00garbagegarbagegarbage";
  }
  auto st = read_journal(f.path);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->torn_tail);
  // Resuming cuts the tail, then appends intact records.
  {
    journal_writer w(f.path, sample_identity(), &*st);
    w.run_started();
    w.settled(settled_outcome::archived, {}, 3);
    w.run_ended(true);
  }
  auto again = read_journal(f.path);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->torn_tail);
  EXPECT_TRUE(again->settled.contains(1));
  EXPECT_TRUE(again->settled.contains(3));
  EXPECT_TRUE(again->finished);
  EXPECT_EQ(again->runs, 2u);
}

TEST(journal, flipped_bit_stops_trust_at_that_record) {
  temp_file f("crc");
  {
    journal_writer w(f.path, sample_identity(), nullptr);
    w.settled(settled_outcome::archived, {}, 1);
    w.flush(clock::now());
    w.settled(settled_outcome::archived, {}, 2);
    w.flush(clock::now());
  }
  auto size = fs::file_size(f.path);
  {
    std::fstream io(f.path, std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(static_cast<std::streamoff>(size - 1));
    char c;
    io.seekg(static_cast<std::streamoff>(size - 1));
    io.get(c);
    io.seekp(static_cast<std::streamoff>(size - 1));
    io.put(static_cast<char>(c ^ 0x01));
  }
  auto st = read_journal(f.path);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->settled.contains(1));
  EXPECT_FALSE(st->settled.contains(2));
  EXPECT_TRUE(st->torn_tail);
}

TEST(journal, not_a_journal_is_an_error_and_absent_is_nullopt) {
  temp_file f("bad");
  EXPECT_FALSE(read_journal(f.path));
  {
    std::ofstream out(f.path);
    out << "from_id,to_id\n1,2\n";
  }
  EXPECT_THROW(read_journal(f.path), std::runtime_error);
}

TEST(journal, identity_differences_are_named) {
  auto a = sample_identity();
  auto b = a;
  EXPECT_EQ(describe_difference(a, b), "");
  b.to_type = "deals";
  EXPECT_NE(describe_difference(a, b).find("contacts -> companies"), std::string::npos);
  b = a;
  b.input_size += 1;
  EXPECT_NE(describe_difference(a, b).find("size"), std::string::npos);
  b = a;
  b.head_hash ^= 1;
  EXPECT_NE(describe_difference(a, b).find("content"), std::string::npos);
  b = a;
  b.api_version = "2026-03";
  EXPECT_NE(describe_difference(a, b).find("API version"), std::string::npos);
}

TEST(journal, line_set_counts_distinct_lines) {
  line_set s;
  s.insert(0);
  s.insert(63);
  s.insert(64);
  s.insert(64);
  s.insert(10'000'000);
  EXPECT_EQ(s.size(), 4u);
  EXPECT_TRUE(s.contains(63));
  EXPECT_TRUE(s.contains(10'000'000));
  EXPECT_FALSE(s.contains(62));
  EXPECT_FALSE(s.contains(99'999'999));
}

TEST(journal, writes_are_grouped_into_few_syncs) {
  temp_file f("sync");
  journal_writer w(f.path, sample_identity(), nullptr, std::chrono::seconds(1));
  auto t = clock::now();
  for (int i = 0; i < 1000; ++i) {
    w.settled(settled_outcome::archived, {}, static_cast<std::uint64_t>(i));
    w.flush(t + std::chrono::milliseconds(i));  // 1000 flushes within one second
  }
  EXPECT_LE(w.syncs(), 2u) << "one at creation, at most one for the interval";
  EXPECT_GT(w.bytes_written(), 0u);
}

// A damaged or forged record naming a line the input cannot have is not
// trusted, wholly (its other lines included), nor is anything after it; the
// reader allocates nothing for it (a bitmap up to line 2^60 would be 128 PiB).
TEST(journal, a_line_beyond_the_input_is_never_trusted_nor_allocated) {
  temp_file f("forged");
  {
    journal_writer w(f.path, sample_identity(), nullptr);
    w.run_started();
    w.settled(settled_outcome::archived, {}, 3);
    w.flush(clock::now());
    w.settled(settled_outcome::archived, {}, 5);
    w.settled(settled_outcome::archived, {}, 1ULL << 60);  // same record as line 5
    w.flush(clock::now());
    w.settled(settled_outcome::failed, "HTTP_500", 9);
    w.run_ended(false);
  }
  auto st = read_journal(f.path, 12346);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->settled.contains(3));
  EXPECT_FALSE(st->settled.contains(5)) << "a record is trusted whole or not at all";
  EXPECT_FALSE(st->settled.contains(9)) << "nothing after an untrusted record is trusted";
  EXPECT_EQ(st->settled.size(), 1u);
  EXPECT_EQ(st->archived, 1u);
  EXPECT_EQ(st->failed, 0u);
  EXPECT_TRUE(st->torn_tail);
}

TEST(journal, line_number_bound_follows_the_input_size_and_gzip) {
  temp_file plain("plain-input"), gz("gz-input");
  { std::ofstream(plain.path) << "1,2\n3,4\n"; }
  EXPECT_EQ(line_number_bound(plain.path), 9u);
  { std::ofstream(gz.path, std::ios::binary) << std::string("\x1f\x8b\x08\x00", 4) << std::string(6, '\0'); }
  EXPECT_EQ(line_number_bound(gz.path), 11u * 1032 + 1);
  EXPECT_THROW(line_number_bound(plain.path + ".missing"), std::runtime_error);
}

// The fuzz seeds (tests/fuzz/make_journal_seeds.py) are journals as the
// writer makes them, so the fuzzer starts from the real format.
TEST(journal, fuzz_seed_journals_read_as_written) {
  const std::string dir = std::string(HUBBATCH_SOURCE_DIR) + "/tests/fuzz/corpus/journal_reader/";
  auto one = read_journal(dir + "one_run.bin", 1000);
  ASSERT_TRUE(one);
  EXPECT_FALSE(one->torn_tail);
  EXPECT_EQ(one->identity.from_type, "contacts");
  EXPECT_EQ(one->runs, 1u);
  EXPECT_EQ(one->archived, 3u);
  EXPECT_EQ(one->already_absent, 1u);
  EXPECT_EQ(one->failed_by_category.at("HTTP_500"), 1u);
  EXPECT_EQ(one->rejected_by_reason.at("bad_id"), 1u);
  EXPECT_EQ(one->duplicate, 1u);
  EXPECT_EQ(one->sent.size(), 4u);
  auto two = read_journal(dir + "two_runs_finished.bin", 1000);
  ASSERT_TRUE(two);
  EXPECT_TRUE(two->finished);
  EXPECT_EQ(two->runs, 2u);
  EXPECT_EQ(two->archived, 199u) << "lines 7 and 8 settled twice count once";
  auto forged = read_journal(dir + "huge_line.bin", 1000);
  ASSERT_TRUE(forged);
  EXPECT_TRUE(forged->torn_tail);
  EXPECT_EQ(forged->settled.size(), 0u);
}

// Regression (found by fuzz_journal_reader): an 'R' or 'E' record with bytes
// after its fields was rejected, yet had already counted a run or marked the
// job finished. Now such a record changes nothing, like any untrusted one.
TEST(journal, a_record_with_trailing_bytes_changes_nothing) {
  const std::string dir = std::string(HUBBATCH_SOURCE_DIR) + "/tests/fuzz/corpus/journal_reader/";
  auto st = read_journal(dir + "regression_run_record_with_trailing_bytes.bin", 1 << 20);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->runs, 0u) << "the 'R' record after the header carries 4 stray bytes";
  EXPECT_FALSE(st->finished);
  EXPECT_EQ(st->settled.size(), 0u);
  EXPECT_TRUE(st->torn_tail);
  EXPECT_EQ(st->valid_bytes, 50u) << "just the header";
}

// Many lines in random order in one flush (the radix sort's path, four
// passes for lines up to 2^26): all read back, none invented.
TEST(journal, many_unordered_lines_round_trip) {
  temp_file f("many");
  std::vector<std::uint64_t> lines;
  std::uint64_t x = 88172645463325252ULL;  // xorshift64
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    lines.push_back(1 + x % (1ULL << 26));
  }
  {
    journal_writer w(f.path, sample_identity(), nullptr);
    w.run_started();
    for (auto l : lines) w.sent(l);
    for (auto l : lines) w.settled(settled_outcome::archived, {}, l);
    w.run_ended(true);
  }
  auto st = read_journal(f.path, 1ULL << 26);
  ASSERT_TRUE(st);
  EXPECT_FALSE(st->torn_tail);
  std::sort(lines.begin(), lines.end());
  lines.erase(std::unique(lines.begin(), lines.end()), lines.end());
  EXPECT_EQ(st->settled.size(), lines.size());
  EXPECT_EQ(st->sent.size(), lines.size());
  EXPECT_EQ(st->archived, lines.size());
  for (auto l : lines) ASSERT_TRUE(st->settled.contains(l) && st->sent.contains(l)) << l;
  EXPECT_FALSE(st->settled.contains(0));
}

// Issue 11: a retryable failure of an earlier run is replaced when a later
// run settles the line again; a final failure is settled once for all. Each
// failed line keeps its category, for the next run's failures file.
TEST(journal, a_later_outcome_replaces_a_retryable_failure_only) {
  temp_file f("retry");
  {
    journal_writer w(f.path, sample_identity(), nullptr);
    w.run_started();
    w.settled(settled_outcome::failed_retryable, "TRANSPORT", std::vector<std::uint64_t>{2, 3, 4});
    w.settled(settled_outcome::failed, "VALIDATION_ERROR", 5);
    w.run_ended(false);
  }
  auto st = read_journal(f.path);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->failed, 4u);
  EXPECT_EQ(st->failed_retryable, 3u);
  EXPECT_TRUE(st->retryable_failed.contains(3));
  EXPECT_FALSE(st->retryable_failed.contains(5));
  ASSERT_NE(st->failure_of(5), nullptr);
  EXPECT_EQ(st->failure_of(5)->category, "VALIDATION_ERROR");
  EXPECT_FALSE(st->failure_of(5)->retryable);
  ASSERT_NE(st->failure_of(2), nullptr);
  EXPECT_TRUE(st->failure_of(2)->retryable);
  {
    journal_writer w(f.path, sample_identity(), &*st);
    w.run_started();
    w.settled(settled_outcome::archived, {}, 2);                 // retried: archived
    w.settled(settled_outcome::failed, "OBJECT_LIMIT", 3);       // retried: now a final failure
    w.settled(settled_outcome::archived, {}, 5);                 // a final failure is not replaced
    w.run_ended(true);
  }
  st = read_journal(f.path);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->archived, 1u);
  EXPECT_EQ(st->failed, 3u);  // 3 (now final), 4 (still retryable), 5
  EXPECT_EQ(st->failed_retryable, 1u);
  EXPECT_EQ(st->failed_by_category.count("TRANSPORT") ? st->failed_by_category.at("TRANSPORT") : 0, 1u);
  EXPECT_EQ(st->failed_by_category.at("OBJECT_LIMIT"), 1u);
  EXPECT_EQ(st->failure_of(2), nullptr);
  ASSERT_NE(st->failure_of(3), nullptr);
  EXPECT_EQ(st->failure_of(3)->category, "OBJECT_LIMIT");
  EXPECT_FALSE(st->retryable_failed.contains(3));
  EXPECT_TRUE(st->retryable_failed.contains(4));
  EXPECT_EQ(st->failure_of(5)->category, "VALIDATION_ERROR");
}

TEST(journal, failure_categories_beyond_the_bound_share_one_class) {
  temp_file f("classes");
  {
    journal_writer w(f.path, sample_identity(), nullptr);
    w.run_started();
    for (std::uint64_t l = 1; l <= 200; ++l) w.settled(settled_outcome::failed, "CAT_" + std::to_string(l), l);
    w.run_ended(true);
  }
  auto st = read_journal(f.path);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->failed, 200u);
  EXPECT_LE(st->failures.size(), 65u);
  EXPECT_LE(st->failed_by_category.size(), 65u);
  EXPECT_EQ(st->failure_of(200)->category, "other");
}
