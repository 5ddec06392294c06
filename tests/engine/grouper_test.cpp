#include "engine/grouper.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <utility>

using hubbatch::pair_id;
using hubbatch::engine::pair_grouper;
using hubbatch::engine::split_batch;

namespace {

using batch = std::vector<pair_id>;

batch take(pair_grouper& g) {
  batch out;
  EXPECT_TRUE(g.take_batch(out));
  return out;
}

// Number of inputs (maximal runs of one from-id) in a batch.
std::size_t inputs_of(const batch& b) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 0 || b[i].from != b[i - 1].from) ++n;
  }
  return n;
}

batch pairs(std::initializer_list<std::pair<std::uint64_t, std::uint64_t>> l) {
  batch b;
  for (auto [f, t] : l) b.push_back({f, t});
  return b;
}

}  // namespace

TEST(pair_grouper, groups_to_ids_of_one_from_id_in_first_appearance_order) {
  pair_grouper g(100, 10, 0);
  for (auto p : pairs({{1, 10}, {2, 20}, {1, 11}, {3, 30}, {2, 21}, {1, 12}})) EXPECT_TRUE(g.add(p));
  EXPECT_EQ(g.pending_pairs(), 6u);
  EXPECT_EQ(take(g), pairs({{1, 10}, {1, 11}, {1, 12}, {2, 20}, {2, 21}, {3, 30}}));
  EXPECT_TRUE(g.empty());
  batch out{{9, 9}};
  EXPECT_FALSE(g.take_batch(out));
  EXPECT_TRUE(out.empty());
}

TEST(pair_grouper, duplicates_are_refused_while_waiting_and_accepted_after_they_left) {
  pair_grouper g(100, 10, 0);
  EXPECT_TRUE(g.add({1, 10}));
  EXPECT_FALSE(g.add({1, 10}));
  EXPECT_TRUE(g.add({1, 11}));
  EXPECT_TRUE(g.add({10, 1}));  // reversed pair is a different pair
  EXPECT_EQ(g.pending_pairs(), 3u);
  EXPECT_EQ(take(g), pairs({{1, 10}, {1, 11}, {10, 1}}));
  EXPECT_TRUE(g.add({1, 10}));  // its batch left: new again
  EXPECT_EQ(take(g), pairs({{1, 10}}));
}

TEST(pair_grouper, input_and_pair_caps_close_a_batch_at_the_first_group_that_does_not_fit) {
  pair_grouper g(100, 3, 5);
  for (auto p : pairs({{1, 1}, {1, 2}, {2, 1}, {2, 2}, {3, 1}, {3, 2}, {4, 1}, {5, 1}, {6, 1}, {7, 1}})) g.add(p);
  EXPECT_EQ(take(g), pairs({{1, 1}, {1, 2}, {2, 1}, {2, 2}}));  // 3 would make 6 pairs
  EXPECT_EQ(take(g), pairs({{3, 1}, {3, 2}, {4, 1}, {5, 1}}));  // 3 inputs
  EXPECT_EQ(take(g), pairs({{6, 1}, {7, 1}}));
  EXPECT_TRUE(g.empty());
}

TEST(pair_grouper, group_larger_than_pair_cap_is_split_and_fills_the_room) {
  pair_grouper g(100, 10, 5);
  g.add({2, 1});
  g.add({2, 2});
  for (std::uint64_t t = 1; t <= 12; ++t) g.add({1, t});
  g.add({3, 1});
  // 2's group, then 1's group (12 > cap, split anyway) fills the room.
  EXPECT_EQ(take(g), pairs({{2, 1}, {2, 2}, {1, 1}, {1, 2}, {1, 3}}));
  EXPECT_EQ(take(g), pairs({{1, 4}, {1, 5}, {1, 6}, {1, 7}, {1, 8}}));
  // More to-ids for 1 arrive while it drains: they join its group.
  g.add({1, 13});
  EXPECT_FALSE(g.add({1, 12}));
  EXPECT_TRUE(g.add({1, 3}));  // already sent: accepted again
  EXPECT_EQ(take(g), pairs({{1, 9}, {1, 10}, {1, 11}, {1, 12}, {1, 13}}));
  EXPECT_EQ(take(g), pairs({{1, 3}, {3, 1}}));
  EXPECT_TRUE(g.empty());
}

TEST(pair_grouper, set_limits_applies_to_later_batches) {
  pair_grouper g(100, 4, 0);
  for (std::uint64_t f = 1; f <= 10; ++f) g.add({f, 1});
  EXPECT_EQ(inputs_of(take(g)), 4u);
  g.set_limits(2, 0);
  EXPECT_EQ(g.max_inputs(), 2u);
  EXPECT_EQ(take(g), pairs({{5, 1}, {6, 1}}));
  g.set_limits(100, 1);
  EXPECT_EQ(g.max_pairs(), 1u);
  EXPECT_EQ(take(g), pairs({{7, 1}}));
  g.set_limits(0, 0);  // clamped to one input
  EXPECT_EQ(take(g), pairs({{8, 1}}));
}

TEST(pair_grouper, window_reports_full) {
  pair_grouper g(3, 10, 0);
  g.add({1, 1});
  g.add({1, 2});
  EXPECT_FALSE(g.full());
  EXPECT_FALSE(g.add({1, 2}));
  EXPECT_FALSE(g.full());
  g.add({2, 1});
  EXPECT_TRUE(g.full());
  take(g);
  EXPECT_FALSE(g.full());
  EXPECT_TRUE(g.empty());
}

// Unsorted input still fills requests: 4 to-ids per from-id, shuffled
// within spans of `block` pairs (the disorder the window is sized for).
double pairs_per_input_after_shuffle(std::size_t block, std::size_t window, std::uint64_t seed) {
  std::vector<pair_id> in;
  for (std::uint64_t f = 1; f <= 5000; ++f) {
    for (std::uint64_t t = 1; t <= 4; ++t) in.push_back({f, 1000 + t});
  }
  std::mt19937_64 rng(seed);
  for (std::size_t i = 0; i < in.size(); i += block) {
    std::shuffle(in.begin() + static_cast<std::ptrdiff_t>(i),
                 in.begin() + static_cast<std::ptrdiff_t>(std::min(in.size(), i + block)), rng);
  }
  pair_grouper g(window, 100, 0);
  std::size_t inputs = 0, out_pairs = 0;
  batch b;
  auto drain_one = [&] {
    g.take_batch(b);
    inputs += inputs_of(b);
    out_pairs += b.size();
  };
  for (const auto& p : in) {
    while (g.full()) drain_one();
    EXPECT_TRUE(g.add(p));
  }
  while (!g.empty()) drain_one();
  EXPECT_EQ(out_pairs, in.size());
  return static_cast<double>(out_pairs) / static_cast<double>(inputs);
}

TEST(pair_grouper, shuffled_input_is_regrouped_within_the_window) {
  // Disorder within the window: every input carries all 4 to-ids.
  EXPECT_EQ(pairs_per_input_after_shuffle(20000, 100000, 1), 4.0);
  EXPECT_EQ(pairs_per_input_after_shuffle(4000, 4000, 2), 4.0);
  EXPECT_EQ(pairs_per_input_after_shuffle(1000, 4000, 3), 4.0);
  // Disorder five times the window: groups leave before their siblings come
  // (FIFO by first appearance), about 1 + 3 * 0.25 pairs per input.
  const double avg = pairs_per_input_after_shuffle(20000, 4000, 4);
  EXPECT_GT(avg, 1.5);
  EXPECT_LT(avg, 2.0);
}

// Property test against a plain model of the documented rule, with random
// data (duplicates included), random caps changed mid-run, and the window
// respected the way the job does (take while full()).
TEST(pair_grouper, random_data_matches_model_and_every_pair_comes_out_once) {
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937_64 rng(seed);
    auto pick = [&](std::uint64_t lo, std::uint64_t hi) { return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng); };
    const std::size_t window = pick(1, 300);
    std::size_t max_inputs = pick(1, 20), max_pairs = pick(0, 1) ? pick(1, 30) : 0;
    pair_grouper g(window, max_inputs, max_pairs);
    // Model: FIFO of groups, each a FIFO of to-ids.
    std::deque<std::pair<std::uint64_t, std::deque<std::uint64_t>>> model;
    std::set<pair_id> waiting;
    std::multiset<pair_id> accepted, emitted;
    const std::uint64_t froms = pick(1, 60), tos = pick(1, 40);
    std::size_t refused = 0;

    auto model_batch = [&] {
      batch b;
      const std::size_t cap = max_pairs ? max_pairs : SIZE_MAX;
      std::size_t inputs = 0;
      while (!model.empty() && inputs < max_inputs && b.size() < cap) {
        auto& [from, to] = model.front();
        std::size_t n = to.size();
        if (n > cap - b.size()) {
          if (n <= cap) break;  // fits an empty batch: wait whole
          n = cap - b.size();
        }
        for (std::size_t i = 0; i < n; ++i) {
          b.push_back({from, to.front()});
          to.pop_front();
        }
        ++inputs;
        if (to.empty()) model.pop_front();
      }
      return b;
    };
    auto take_and_check = [&] {
      batch b;
      ASSERT_TRUE(g.take_batch(b));
      const batch expected = model_batch();
      ASSERT_EQ(b, expected);
      ASSERT_FALSE(b.empty());
      ASSERT_LE(inputs_of(b), max_inputs);
      if (max_pairs) {
        ASSERT_LE(b.size(), max_pairs);
      }
      std::set<std::uint64_t> froms_in_batch;
      for (std::size_t i = 0; i < b.size(); ++i) {
        if (i == 0 || b[i].from != b[i - 1].from) {
          ASSERT_TRUE(froms_in_batch.insert(b[i].from).second);
        }
        waiting.erase(b[i]);
        emitted.insert(b[i]);
      }
      ASSERT_EQ(g.pending_pairs(), waiting.size());
    };

    const int n = static_cast<int>(pick(200, 3000));
    for (int i = 0; i < n; ++i) {
      const pair_id p{pick(1, froms), pick(1, tos)};
      while (g.full()) take_and_check();
      const bool fresh = !waiting.count(p);
      ASSERT_EQ(g.add(p), fresh);
      if (fresh) {
        waiting.insert(p);
        accepted.insert(p);
        auto it = std::find_if(model.begin(), model.end(), [&](const auto& grp) { return grp.first == p.from; });
        if (it == model.end()) {
          model.push_back({p.from, {p.to}});
        } else {
          it->second.push_back(p.to);
        }
      } else {
        ++refused;
      }
      ASSERT_LE(g.pending_pairs(), window);
      if (pick(0, 40) == 0) take_and_check();
      if (pick(0, 200) == 0) {
        max_inputs = pick(1, 20);
        max_pairs = pick(0, 1) ? pick(1, 30) : 0;
        g.set_limits(max_inputs, max_pairs);
      }
    }
    while (!g.empty()) take_and_check();
    EXPECT_TRUE(model.empty());
    EXPECT_EQ(accepted, emitted);
    EXPECT_EQ(accepted.size() + refused, static_cast<std::size_t>(n));
  }
}

TEST(pair_grouper, one_from_id_with_many_to_ids_drains_in_capped_batches) {
  pair_grouper g(1'000'000, 100, 1000);
  for (std::uint64_t t = 1; t <= 250'000; ++t) g.add({42, t});
  batch b;
  std::uint64_t next = 1;
  std::size_t batches = 0;
  while (g.take_batch(b)) {
    ++batches;
    ASSERT_EQ(b.size(), 1000u);
    for (const auto& p : b) ASSERT_EQ(p, (pair_id{42, next++}));
    // Keep feeding the same from-id while it drains.
    if (batches <= 100) {
      for (int k = 0; k < 10; ++k) ASSERT_TRUE(g.add({42, 250'000 + (batches - 1) * 10 + k + 1}));
    }
  }
  EXPECT_EQ(batches, 251u);
  EXPECT_EQ(next, 251'001u);
}

// add_runs(): pairs sorted into one run per from-id (the job's sorted
// partitions) give the same batches as add() of the same pairs, and mixing
// the two kinds of calls (a second input after a partitioned one, each part
// opened with begin_runs()) never gives a from-id two groups: every batch
// names a from-id once, duplicates are refused, every pair comes out once.
TEST(pair_grouper, runs_give_the_batches_of_add_and_mix_with_it) {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937_64 rng(seed);
    auto pick = [&](std::uint64_t lo, std::uint64_t hi) { return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng); };
    const std::size_t window = pick(5, 400);
    const std::size_t max_inputs = pick(1, 12), max_pairs = pick(0, 1) ? pick(1, 25) : 0;
    pair_grouper by_runs(window, max_inputs, max_pairs);
    pair_grouper by_add(window, max_inputs, max_pairs);
    std::vector<batch> out_runs, out_add;
    std::set<pair_id> waiting;
    std::multiset<pair_id> accepted, emitted;
    std::size_t offered = 0, refused = 0;
    auto drain = [&](pair_grouper& g, std::vector<batch>& out, bool all, bool check) {
      batch b;
      while (all ? !g.empty() : g.full()) {
        ASSERT_TRUE(g.take_batch(b));
        std::set<std::uint64_t> froms;
        for (std::size_t i = 0; i < b.size(); ++i) {
          if (i == 0 || b[i].from != b[i - 1].from) {
            ASSERT_TRUE(froms.insert(b[i].from).second) << "from-id " << b[i].from << " twice in a batch";
          }
          if (check) {
            ASSERT_EQ(waiting.erase(b[i]), 1u);
            emitted.insert(b[i]);
          }
        }
        out.push_back(b);
      }
    };
    // Parts: sorted runs (a partitioned file), then plain pairs (another input) sharing from-ids.
    const int parts = static_cast<int>(pick(1, 6));
    for (int part = 0; part < parts; ++part) {
      const bool runs = part % 2 == 0 || pick(0, 1);
      std::vector<pair_id> in;
      const std::uint64_t froms = pick(1, 80);
      for (std::uint64_t f = 1; f <= froms; ++f) {
        if (pick(0, 2) == 0) continue;
        const std::uint64_t n = pick(1, 40);
        for (std::uint64_t k = 0; k < n; ++k) in.push_back({f * 7 + 1000, pick(1, 30)});  // duplicates too
      }
      if (!runs) std::shuffle(in.begin(), in.end(), rng);
      by_runs.begin_runs();
      for (std::size_t at = 0; at < in.size();) {
        const std::size_t n = std::min<std::size_t>(pick(1, 64), in.size() - at);
        bool ok_runs[64], ok_add[64];
        if (runs) {
          by_runs.add_runs(&in[at], nullptr, n, ok_runs);
        } else {
          by_runs.add_many(&in[at], nullptr, n, ok_runs);
        }
        by_add.add_many(&in[at], nullptr, n, ok_add);
        for (std::size_t k = 0; k < n; ++k) {
          ++offered;
          const bool fresh = !waiting.count(in[at + k]);
          ASSERT_EQ(ok_runs[k], fresh);
          ASSERT_EQ(ok_add[k], fresh);
          if (fresh) {
            waiting.insert(in[at + k]);
            accepted.insert(in[at + k]);
          } else {
            ++refused;
          }
        }
        at += n;
        drain(by_runs, out_runs, false, true);
        drain(by_add, out_add, false, false);
      }
    }
    drain(by_runs, out_runs, true, true);
    drain(by_add, out_add, true, false);
    EXPECT_EQ(out_runs, out_add);
    EXPECT_TRUE(waiting.empty());
    EXPECT_EQ(accepted, emitted);
    EXPECT_EQ(accepted.size() + refused, offered);
  }
}

// ---------------------------------------------------------------- split_batch

TEST(split_batch, halves_by_inputs_and_keeps_order) {
  const batch b = pairs({{1, 1}, {1, 2}, {2, 1}, {3, 1}, {3, 2}, {3, 3}, {4, 1}});
  const auto parts = split_batch(b, 2, 0);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0], pairs({{1, 1}, {1, 2}, {2, 1}}));
  EXPECT_EQ(parts[1], pairs({{3, 1}, {3, 2}, {3, 3}, {4, 1}}));
  EXPECT_TRUE(split_batch({}, 3, 0).empty());
  EXPECT_EQ(split_batch(b, 100, 0), std::vector<batch>{b});
}

TEST(split_batch, pair_cap_splits_only_runs_that_exceed_it) {
  const batch b = pairs({{1, 1}, {1, 2}, {2, 1}, {2, 2}, {2, 3}, {2, 4}, {2, 5}, {3, 1}});
  const auto parts = split_batch(b, 10, 3);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], pairs({{1, 1}, {1, 2}, {2, 1}}));  // run of 5 > 3: fills the room
  EXPECT_EQ(parts[1], pairs({{2, 2}, {2, 3}, {2, 4}}));
  EXPECT_EQ(parts[2], pairs({{2, 5}, {3, 1}}));
  // A run that fits an empty part is moved whole.
  const auto whole = split_batch(pairs({{1, 1}, {1, 2}, {2, 1}, {2, 2}}), 10, 3);
  ASSERT_EQ(whole.size(), 2u);
  EXPECT_EQ(whole[0], pairs({{1, 1}, {1, 2}}));
  EXPECT_EQ(whole[1], pairs({{2, 1}, {2, 2}}));
  // One input bisected by pairs.
  const auto single = split_batch(pairs({{7, 1}, {7, 2}, {7, 3}, {7, 4}, {7, 5}}), 1, 3);
  ASSERT_EQ(single.size(), 2u);
  EXPECT_EQ(single[1], pairs({{7, 4}, {7, 5}}));
}

TEST(split_batch, random_round_trip_respects_caps) {
  std::mt19937_64 rng(99);
  auto pick = [&](std::uint64_t lo, std::uint64_t hi) { return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng); };
  for (int round = 0; round < 500; ++round) {
    batch b;
    const auto runs = pick(0, 30);
    for (std::uint64_t r = 0; r < runs; ++r) {
      const auto len = pick(1, 12);
      for (std::uint64_t k = 0; k < len; ++k) b.push_back({r + 1, k + 1});
    }
    const std::size_t max_inputs = pick(1, 10), max_pairs = pick(0, 1) ? pick(1, 15) : 0;
    const auto parts = split_batch(b, max_inputs, max_pairs);
    batch joined;
    for (const auto& part : parts) {
      ASSERT_FALSE(part.empty());
      ASSERT_LE(inputs_of(part), max_inputs);
      if (max_pairs) {
        ASSERT_LE(part.size(), max_pairs);
      }
      joined.insert(joined.end(), part.begin(), part.end());
    }
    ASSERT_EQ(joined, b);
    // Splitting again under the same caps changes nothing.
    for (const auto& part : parts) ASSERT_EQ(split_batch(part, max_inputs, max_pairs), std::vector<batch>{part});
  }
}

// Issue 13: a pair's association type is part of what it asks for.
TEST(pair_grouper, pairs_of_different_types_are_different_work_and_group_by_type) {
  using hubbatch::assoc_category;
  using hubbatch::assoc_type;
  const assoc_type primary{1, assoc_category::hubspot_defined};
  const assoc_type billing{36, assoc_category::user_defined};
  pair_grouper g(100, 10, 0);
  EXPECT_TRUE(g.add({1, 10, primary}));
  EXPECT_TRUE(g.add({1, 10, billing}));   // same records, another label: not a duplicate
  EXPECT_FALSE(g.add({1, 10, primary}));  // the same label again is
  EXPECT_TRUE(g.add({1, 11, primary}));
  EXPECT_TRUE(g.add({2, 20, billing}));
  EXPECT_EQ(g.pending_pairs(), 4u);
  // One group per (from, type), in first-appearance order; each pair keeps its type.
  EXPECT_EQ(take(g), (batch{{1, 10, primary}, {1, 11, primary}, {1, 10, billing}, {2, 20, billing}}));
}

TEST(pair_grouper, a_batch_never_mixes_typed_and_untyped_pairs) {
  const hubbatch::assoc_type primary{1, hubbatch::assoc_category::hubspot_defined};
  pair_grouper g(100, 10, 0);
  g.add({1, 10});
  g.add({2, 20});
  g.add({3, 30, primary});
  g.add({4, 40});
  EXPECT_EQ(g.pending_pairs(), 4u);
  // The kind with more pairs waiting first; each kind fills its own batches
  // however the input interleaves them.
  EXPECT_EQ(take(g), (batch{{1, 10}, {2, 20}, {4, 40}}));
  EXPECT_EQ(take(g), (batch{{3, 30, primary}}));
  EXPECT_TRUE(g.empty());
}

TEST(pair_grouper, interleaved_typed_and_untyped_pairs_fill_full_batches) {
  const hubbatch::assoc_type primary{1, hubbatch::assoc_category::hubspot_defined};
  pair_grouper g(1000, 10, 10);
  std::vector<pair_id> in;
  for (std::uint64_t i = 0; i < 200; ++i) in.push_back(i % 2 ? pair_id{i, 7000 + i, primary} : pair_id{i, 7000 + i});
  std::vector<std::uint64_t> lines(in.size(), 1);
  std::vector<char> accepted(in.size());
  g.add_many(in.data(), lines.data(), in.size(), reinterpret_cast<bool*>(accepted.data()));
  std::size_t batches = 0, pairs = 0;
  batch b;
  while (g.take_batch(b)) {
    ++batches;
    pairs += b.size();
    for (const auto& p : b) EXPECT_EQ(p.type.empty(), b.front().type.empty()) << "one kind a batch";
  }
  EXPECT_EQ(pairs, 200u);
  EXPECT_EQ(batches, 20u) << "full batches of 10, not one per change of kind";
}

// add_many() hands each run of one kind to its own grouper (typed pairs to
// the typed one): the same answers and batches as add() pair by pair, for
// blocks that are all typed, all untyped or mixed, duplicates included.
TEST(pair_grouper, add_many_of_mixed_kinds_answers_and_batches_as_add_does) {
  const hubbatch::assoc_type primary{1, hubbatch::assoc_category::hubspot_defined};
  const hubbatch::assoc_type billing{36, hubbatch::assoc_category::user_defined};
  std::mt19937_64 rng(13);
  for (int round = 0; round < 50; ++round) {
    pair_grouper by_many(64, 10, 10), by_add(64, 10, 10);
    if (round % 2) {
      by_many.set_one_pair_per_input(true);
      by_add.set_one_pair_per_input(true);
    }
    const int mode = round % 3;  // 0: all typed, 1: all untyped, 2: mixed
    std::vector<pair_id> in;
    std::vector<std::uint64_t> lines;
    for (std::uint64_t i = 0; i < 300; ++i) {
      pair_id p{rng() % 40, rng() % 6};
      const int kind = mode == 0 ? 1 + static_cast<int>(rng() % 2) : mode == 1 ? 0 : static_cast<int>(rng() % 3);
      if (kind > 0) p.type = kind == 1 ? primary : billing;
      in.push_back(p);
      lines.push_back(i + 2);
    }
    batch b_many, b_add;
    std::vector<std::uint64_t> l_many, l_add;
    for (std::size_t at = 0; at < in.size();) {
      const std::size_t n = std::min<std::size_t>(1 + rng() % 64, in.size() - at);
      bool ok[64];
      by_many.add_many(&in[at], &lines[at], n, ok);
      for (std::size_t k = 0; k < n; ++k) ASSERT_EQ(ok[k], by_add.add(in[at + k], lines[at + k])) << at + k;
      at += n;
      ASSERT_EQ(by_many.pending_pairs(), by_add.pending_pairs());
      while (by_many.full()) {
        ASSERT_TRUE(by_many.take_batch(b_many, l_many));
        ASSERT_TRUE(by_add.take_batch(b_add, l_add));
        ASSERT_EQ(b_many, b_add);
        ASSERT_EQ(l_many, l_add);
      }
    }
    while (by_many.take_batch(b_many, l_many)) {
      ASSERT_TRUE(by_add.take_batch(b_add, l_add));
      ASSERT_EQ(b_many, b_add);
      ASSERT_EQ(l_many, l_add);
    }
    EXPECT_TRUE(by_add.empty());
  }
}

TEST(pair_grouper, runs_of_one_from_id_split_into_groups_where_the_type_changes) {
  const hubbatch::assoc_type primary{1, hubbatch::assoc_category::hubspot_defined};
  const hubbatch::assoc_type billing{36, hubbatch::assoc_category::user_defined};
  pair_grouper g(100, 10, 0);
  g.begin_runs();
  const pair_id in[] = {{1, 10, primary}, {1, 11, primary}, {1, 10, billing}, {1, 10, billing}};
  const std::uint64_t lines[] = {1, 2, 3, 4};
  bool accepted[4];
  g.add_runs(in, lines, 4, accepted);
  EXPECT_TRUE(accepted[0] && accepted[1] && accepted[2]);
  EXPECT_FALSE(accepted[3]);
  EXPECT_EQ(take(g), (batch{{1, 10, primary}, {1, 11, primary}, {1, 10, billing}}));
  EXPECT_EQ(split_batch({{1, 10, primary}, {1, 11, primary}, {1, 10, billing}}, 1, 0).size(), 2u);
}

// Issue 13 benchmark: for create every pair is an input, so a from-id's
// pairs are split across batches rather than leave a batch short.
TEST(pair_grouper, one_pair_per_input_fills_every_batch) {
  pair_grouper g(10000, 100, 100);
  g.set_one_pair_per_input(true);
  for (std::uint64_t f = 0; f < 700; ++f)
    for (std::uint64_t t = 0; t < 3; ++t) ASSERT_TRUE(g.add({f, 1000 * f + t}));
  batch b;
  std::size_t batches = 0, pairs = 0;
  while (g.take_batch(b)) {
    ++batches;
    pairs += b.size();
    if (pairs < 2100) {
      EXPECT_EQ(b.size(), 100u);
    }
  }
  EXPECT_EQ(pairs, 2100u);
  EXPECT_EQ(batches, 21u);
}
