#include "engine/batch_sizer.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>

using namespace hubbatch::engine;

namespace {

batch_sizer learner(std::size_t ceiling = 2000) { return batch_sizer({100, true, ceiling, 4}); }

// Cuts a batch at the size offered and sends it; a server with `limit` answers.
// Returns the inputs sent.
std::size_t round_trip(batch_sizer& s, std::size_t limit, std::map<std::size_t, int>& refused_at) {
  const std::size_t n = s.cut_size();
  s.on_cut(n);
  if (n > limit) {
    ++refused_at[n];
    s.on_refused(n, std::nullopt);
  } else {
    s.on_accepted(n, true);
  }
  return n;
}

}  // namespace

TEST(batch_sizer, a_fixed_size_never_grows) {
  batch_sizer s({250, false, 2000, 4});
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(s.cut_size(), 250u);
    EXPECT_FALSE(s.on_cut(250));
    s.on_accepted(250, true);
  }
  EXPECT_TRUE(s.settled());
}

TEST(batch_sizer, grows_by_doubling_after_a_run_of_clean_answers_up_to_the_ceiling) {
  batch_sizer s = learner();
  std::map<std::size_t, int> refused;
  std::vector<std::size_t> sizes;
  for (int i = 0; i < 60; ++i) sizes.push_back(round_trip(s, 100000, refused));
  EXPECT_TRUE(refused.empty());
  EXPECT_EQ(s.size(), 2000u);
  EXPECT_TRUE(s.settled());
  // Four clean answers at each size before the next is tried.
  std::vector<std::size_t> expected = {100, 100, 100, 100, 200, 200, 200, 200, 200, 400};
  EXPECT_EQ(std::vector<std::size_t>(sizes.begin(), sizes.begin() + 10), expected);
  EXPECT_EQ(sizes.back(), 2000u);
}

TEST(batch_sizer, a_refusal_settles_below_the_refused_size_and_costs_one_request_per_size) {
  for (std::size_t limit : {100u, 150u, 399u, 400u, 1000u, 1999u}) {
    batch_sizer s = learner();
    std::map<std::size_t, int> refused;
    for (int i = 0; i < 200; ++i) round_trip(s, limit, refused);
    EXPECT_LE(s.size(), limit) << limit;
    EXPECT_GT(s.size() * 2, limit) << "at most one doubling short of the limit: " << limit;
    EXPECT_LE(refused.size(), 1u) << limit;
    for (auto [size, n] : refused) EXPECT_EQ(n, 1) << "size " << size << " refused twice (limit " << limit << ")";
    EXPECT_TRUE(s.settled());
  }
}

TEST(batch_sizer, the_limit_an_answer_names_is_taken_as_it_is) {
  batch_sizer s = learner();
  std::map<std::size_t, int> refused;
  for (int i = 0; i < 12; ++i) round_trip(s, 1000, refused);  // 100 -> 200 -> 400 known good
  ASSERT_EQ(s.size(), 400u);
  while (s.cut_size() == 400) s.on_accepted(400, true);
  ASSERT_EQ(s.cut_size(), 800u);
  ASSERT_TRUE(s.on_cut(800));
  EXPECT_EQ(s.on_refused(800, 500), 500u) << "the answer said 500";
  EXPECT_EQ(s.size(), 500u);
  EXPECT_EQ(s.cut_size(), 500u);
  EXPECT_TRUE(s.settled());
}

TEST(batch_sizer, only_one_probe_is_out_at_a_time) {
  batch_sizer s = learner();
  for (int i = 0; i < 4; ++i) s.on_accepted(100, true);
  ASSERT_EQ(s.cut_size(), 200u);
  EXPECT_TRUE(s.on_cut(200));
  EXPECT_EQ(s.cut_size(), 100u) << "others wait for the probe's answer";
  EXPECT_FALSE(s.on_cut(100));
  for (int i = 0; i < 10; ++i) s.on_accepted(100, true);
  EXPECT_EQ(s.cut_size(), 100u);
  s.on_accepted(200, true);
  EXPECT_EQ(s.size(), 200u);
  EXPECT_EQ(s.cut_size(), 200u) << "a new run of clean answers first";
}

TEST(batch_sizer, trouble_restarts_the_run_of_clean_answers) {
  batch_sizer s = learner();
  for (int i = 0; i < 3; ++i) s.on_accepted(100, true);
  s.on_trouble();
  for (int i = 0; i < 3; ++i) s.on_accepted(100, true);
  EXPECT_EQ(s.cut_size(), 100u);
  s.on_accepted(100, false);  // a 2xx naming errors is not clean
  s.on_accepted(100, true);
  EXPECT_EQ(s.cut_size(), 200u);
}

TEST(batch_sizer, a_size_that_passed_before_and_is_refused_now_halves) {
  batch_sizer s = learner();
  std::map<std::size_t, int> refused;
  for (int i = 0; i < 12; ++i) round_trip(s, 100000, refused);
  ASSERT_EQ(s.size(), 400u);
  EXPECT_EQ(s.on_refused(400, std::nullopt), 200u);
  EXPECT_EQ(s.size(), 200u);
  EXPECT_TRUE(s.settled());
}

TEST(batch_sizer, a_probe_cut_short_at_the_end_of_the_input_still_counts_for_what_it_carried) {
  batch_sizer s = learner();
  for (int i = 0; i < 4; ++i) s.on_accepted(100, true);
  ASSERT_EQ(s.cut_size(), 200u);
  EXPECT_TRUE(s.on_cut(130));  // fewer inputs were left
  s.on_accepted(130, true);
  EXPECT_EQ(s.size(), 130u);
  EXPECT_FALSE(s.on_cut(90)) << "a batch no larger than the known size is no probe";
}

TEST(batch_sizer, random_limits_never_refuse_a_size_twice_and_end_within_a_doubling) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    const std::size_t limit = 1 + rng() % 3000;
    batch_sizer s = learner();
    std::map<std::size_t, int> refused;
    for (int i = 0; i < 300; ++i) {
      if (rng() % 5 == 0) s.on_trouble();
      round_trip(s, limit, refused);
    }
    for (auto [size, n] : refused) ASSERT_EQ(n, 1) << "limit " << limit << " size " << size;
    ASSERT_LE(s.size(), std::max<std::size_t>(limit, 1)) << limit;
    if (limit >= 100) {
      ASSERT_GT(2 * s.size(), std::min<std::size_t>(limit, 2000)) << limit;
    }
  }
}
