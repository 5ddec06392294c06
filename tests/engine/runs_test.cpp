#include "engine/runs.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <vector>

using hubbatch::engine::run_order;

namespace {

struct rec {
  std::uint64_t key;
  std::uint64_t order;  // input position
  bool operator==(const rec&) const = default;
};

// The documented result, built the plain way: keys by first appearance,
// each key's elements in input order.
std::vector<rec> model(const std::vector<rec>& v) {
  std::vector<std::uint64_t> first_seen;
  std::map<std::uint64_t, std::vector<rec>> by_key;
  for (const rec& r : v) {
    if (!by_key.count(r.key)) first_seen.push_back(r.key);
    by_key[r.key].push_back(r);
  }
  std::vector<rec> out;
  for (auto k : first_seen) out.insert(out.end(), by_key[k].begin(), by_key[k].end());
  return out;
}

}  // namespace

// Sizes around the table's minimum, few and many distinct keys (colliding
// probes included: keys that differ only in high bits), key 0, and one
// run_order reused for all of them (its buffers carry over between calls).
TEST(run_order, keys_by_first_appearance_elements_in_input_order) {
  std::mt19937_64 rng(17);
  run_order order;
  std::vector<rec> scratch;
  for (std::size_t n : {0u, 1u, 2u, 31u, 32u, 33u, 1000u, 30000u}) {
    for (std::uint64_t distinct : {std::uint64_t{1}, std::uint64_t{7}, std::uint64_t{500}, std::uint64_t{1} << 40}) {
      SCOPED_TRACE(testing::Message() << n << " elements, " << distinct << " distinct keys");
      std::vector<rec> v(n);
      for (std::size_t i = 0; i < n; ++i) {
        std::uint64_t k = rng() % distinct;
        if (k % 3 == 1) k <<= 44;  // same low bits, different high bits
        v[i] = rec{k, i};
      }
      const auto expected = model(v);
      order.apply(v, scratch, [](const rec& r) { return r.key; });
      ASSERT_EQ(v, expected);
    }
  }
}
