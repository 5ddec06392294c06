#include "engine/radix_sort.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

using hubbatch::engine::radix_sort;

namespace {

struct rec {
  std::uint64_t key;
  std::uint64_t order;  // input position: equal keys must keep it
  bool operator==(const rec&) const = default;
};

std::vector<rec> stable_sorted(std::vector<rec> v) {
  std::stable_sort(v.begin(), v.end(), [](const rec& a, const rec& b) { return a.key < b.key; });
  return v;
}

}  // namespace

// Against std::stable_sort: sizes on both sides of the small-input cut-off,
// keys of every width (constant bytes are skipped, so widths that leave high,
// low or middle bytes constant all take a different set of passes), and many
// equal keys so stability is checked.
TEST(radix_sort, matches_stable_sort_for_every_key_shape) {
  std::mt19937_64 rng(11);
  std::vector<rec> scratch;
  const std::uint64_t shapes[] = {0,
                                  0xff,
                                  0xffff,
                                  0xff00ff,
                                  0xffffffffffULL,
                                  0xff000000000000ffULL,
                                  0x00ffff0000000000ULL,
                                  ~std::uint64_t{0}};
  for (std::size_t n : {0u, 1u, 2u, 63u, 64u, 65u, 1000u, 20000u}) {
    for (std::uint64_t mask : shapes) {
      for (std::uint64_t distinct : {std::uint64_t{3}, ~std::uint64_t{0}}) {
        SCOPED_TRACE(testing::Message() << n << " keys, mask " << std::hex << mask << ", distinct " << distinct);
        std::vector<std::uint64_t> pool;
        for (std::uint64_t i = 0; i < std::min<std::uint64_t>(distinct, 64); ++i) pool.push_back(rng() & mask);
        std::vector<rec> v(n);
        for (std::size_t i = 0; i < n; ++i) {
          const std::uint64_t k = distinct == ~std::uint64_t{0} ? rng() & mask : pool[rng() % pool.size()];
          v[i] = rec{k | (~mask & 0x0042000000000000ULL), i};  // a constant non-zero byte where the mask allows
        }
        const auto expected = stable_sorted(v);
        radix_sort(v, scratch, [](const rec& r) { return r.key; });
        ASSERT_EQ(v, expected);
      }
    }
  }
}

TEST(radix_sort, plain_integers_and_reused_scratch) {
  std::vector<std::uint64_t> scratch;
  std::mt19937_64 rng(3);
  for (int round = 0; round < 5; ++round) {
    std::vector<std::uint64_t> v(5000 + round * 777);
    for (auto& x : v) x = rng() % (round == 0 ? 100 : 1'000'000'000'000ULL);
    auto expected = v;
    std::sort(expected.begin(), expected.end());
    radix_sort(v, scratch, [](std::uint64_t x) { return x; });
    ASSERT_EQ(v, expected);
  }
}
