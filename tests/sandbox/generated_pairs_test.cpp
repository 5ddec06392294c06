#include "sandbox/generated_pairs.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <vector>

using namespace hubbatch;
using namespace hubbatch::sandbox;

namespace {

std::vector<pair_id> all_pairs(const generated_pairs& g) {
  std::vector<pair_id> out;
  g.each([&](std::uint64_t, pair_id p) { out.push_back(p); });
  return out;
}

}  // namespace

// N pairs exactly, gen-pairs' default shape: 1-7 distinct to-ids a from-id,
// ids in their ranges, from-ids one-to-one with their numbers.
TEST(sandbox_generated_pairs, holds_exactly_n_distinct_pairs_of_the_default_shape) {
  for (std::uint64_t n : {1u, 2u, 7u, 8u, 1000u, 50'001u}) {
    generated_pairs g(n, 42);
    std::uint64_t count = 0;
    std::set<std::uint64_t> froms;
    std::uint64_t to[generated_pairs::slots_per_from];
    for (std::uint64_t k = 0; k < g.groups(); ++k) {
      const std::uint64_t from = g.from_id(k);
      ASSERT_GE(from, 10'000'000'000ULL);
      ASSERT_LT(from, 1'000'000'000'000ULL);
      ASSERT_EQ(g.group_of(from), k);
      froms.insert(from);
      const std::uint32_t m = g.to_ids(k, to);
      ASSERT_GE(m, 1u);
      ASSERT_LE(m, 7u);
      std::set<std::uint64_t> distinct(to, to + m);
      ASSERT_EQ(distinct.size(), m);
      for (std::uint32_t j = 0; j < m; ++j) {
        ASSERT_GE(to[j], 1'000'000'000ULL);
        ASSERT_LT(to[j], 100'000'000'000ULL);
      }
      count += m;
    }
    EXPECT_EQ(count, n);
    EXPECT_EQ(froms.size(), g.groups());
    if (n >= 1000) {  // 4 to-ids a from-id on average
      EXPECT_NEAR(static_cast<double>(n) / static_cast<double>(g.groups()), 4.0, 0.3) << n;
    }
  }
  EXPECT_THROW(generated_pairs(0, 1), std::invalid_argument);
  EXPECT_THROW(generated_pairs(generated_pairs::max_pairs + 1, 1), std::invalid_argument);
}

TEST(sandbox_generated_pairs, slot_of_finds_each_pair_and_nothing_else) {
  generated_pairs g(20'000, 3);
  std::set<pair_id> model;
  g.each([&](std::uint64_t slot, pair_id p) {
    ASSERT_EQ(g.slot_of(p), slot);
    ASSERT_LT(slot, g.slots());
    model.insert(p);
    // Another to-id, or the pair turned round (a seed of fixed seed: no
    // to-id of a from-id is another's successor here).
    EXPECT_EQ(g.slot_of(pair_id{p.from, p.to + 1}), generated_pairs::npos);
    EXPECT_EQ(g.slot_of(pair_id{p.to, p.from}), generated_pairs::npos);
  });
  EXPECT_EQ(model.size(), 20'000u);
  // Ids nobody generated: out of range, or in range and not a from-id.
  EXPECT_EQ(g.group_of(5), generated_pairs::npos);
  EXPECT_EQ(g.group_of(1'000'000'000'000ULL), generated_pairs::npos);
  std::uint64_t misses = 0;
  for (std::uint64_t id = 10'000'000'000ULL; id < 10'000'100'000ULL; ++id) {
    const std::uint64_t k = g.group_of(id);
    if (k == generated_pairs::npos) {
      ++misses;
    } else {
      ASSERT_EQ(g.from_id(k), id);
    }
  }
  EXPECT_GT(misses, 99'000u);
  EXPECT_EQ(g.slot_of(pair_id{5, 6}), generated_pairs::npos);
}

// The file order is every pair once, spread out: consecutive lines rarely
// share a from-id. The same seed gives the same file, another seed another.
TEST(sandbox_generated_pairs, file_order_is_a_shuffle_of_the_pairs) {
  generated_pairs g(30'000, 9);
  std::vector<pair_id> lines;
  g.each_in_file_order([&](pair_id p) { lines.push_back(p); });
  ASSERT_EQ(lines.size(), 30'000u);
  std::size_t same_from = 0;
  for (std::size_t i = 1; i < lines.size(); ++i) same_from += lines[i].from == lines[i - 1].from;
  EXPECT_LT(same_from, 100u);
  std::vector<pair_id> sorted = lines, want = all_pairs(g);
  std::sort(sorted.begin(), sorted.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(sorted, want);

  std::vector<pair_id> again;
  generated_pairs(30'000, 9).each_in_file_order([&](pair_id p) { again.push_back(p); });
  EXPECT_EQ(again, lines);
  EXPECT_NE(all_pairs(generated_pairs(30'000, 10)), all_pairs(g));
}
