// Brings the elements of each key together: the job's input partitions are
// reordered so the pairs of each from-id come as one run (engine/feed.cpp,
// pair_grouper::add_runs).
#pragma once

#include "io/pair.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace hubbatch::engine {

// Reorders v so that the elements with equal key(x) (a std::uint64_t) are
// contiguous: keys in the order of their first appearance, the elements of
// one key in their input order. A counting sort by key number: one pass
// numbers the keys through an open-addressing table sized to v, one moves
// the elements. Faster than a radix sort on the whole key (40-bit ids take
// five passes) because only grouping, not order, is needed. The buffers are
// kept between calls so the steady state does not allocate.
class run_order {
 public:
  // Largest v accepted (key numbers are 32 bits).
  static constexpr std::size_t max_size = std::numeric_limits<std::uint32_t>::max() / 2;

  template <class T, class Key>
  void apply(std::vector<T>& v, std::vector<T>& scratch, Key key) {
    std::size_t cap = 64;
    while (cap < 2 * v.size()) cap *= 2;
    keys_.resize(cap);
    number_.assign(cap, 0);  // 0: empty slot, else key number + 1
    of_.resize(v.size());
    start_.clear();
    const std::size_t mask = cap - 1;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::uint64_t k = key(v[i]);
      std::size_t s = mix_id(k) & mask;
      while (number_[s] != 0 && keys_[s] != k) s = (s + 1) & mask;
      if (number_[s] == 0) {
        keys_[s] = k;
        start_.push_back(0);
        number_[s] = static_cast<std::uint32_t>(start_.size());
      }
      const std::uint32_t n = number_[s] - 1;
      of_[i] = n;
      ++start_[n];
    }
    std::uint32_t sum = 0;
    for (auto& c : start_) {
      const std::uint32_t count = c;
      c = sum;
      sum += count;
    }
    scratch.resize(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) scratch[start_[of_[i]]++] = v[i];
    v.swap(scratch);
  }

 private:
  std::vector<std::uint64_t> keys_;    // table: the key in each used slot
  std::vector<std::uint32_t> number_;  // table: key number + 1, 0 = empty
  std::vector<std::uint32_t> of_;      // key number of each element
  std::vector<std::uint32_t> start_;   // per key number: count, then next output position
};

}  // namespace hubbatch::engine
