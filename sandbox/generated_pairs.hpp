// The pairs of `gen-pairs --keyed --pairs N --seed S` (bench/gen_pairs.cpp)
// as functions of (N, S), so the sandbox can hold 100 million of them
// without reading or storing them (`hubbatch sandbox --seed-generated N:S`).
//
// From-id number g (0 <= g < groups()) is the record id from_id(g): a
// one-to-one map of g into [10^10, 10^12) (a Feistel permutation of 40-bit
// numbers, walked until it lands in range), which group_of() inverts. It has
// fanout(g) to-ids, 1 to 7 (4 on average; the last from-id has what is left
// of N), distinct, in [10^9, 10^11), from a hash of (S, g). Pair j of from-id
// g is slot g * 8 + j: a store of these pairs needs one bit a slot (about 2
// bits a pair) to remember what was removed, and nothing else. The shape
// (11-12 digit from-ids, 10-11 digit to-ids, 4 to-ids a from-id on average)
// is gen-pairs' default one; the ids are not the ones it draws without
// --keyed.
#pragma once

#include "io/pair.hpp"

#include <cstdint>
#include <functional>

namespace hubbatch::sandbox {

class generated_pairs {
 public:
  static constexpr std::uint64_t npos = ~std::uint64_t{0};
  static constexpr std::uint32_t slots_per_from = 8;  // more than the 7 to-ids a from-id has at most
  static constexpr std::uint64_t max_pairs = 10'000'000'000ULL;

  // Counts the from-ids (a hash per from-id: about 0.1 s for 100 million
  // pairs). Throws std::invalid_argument when pairs is 0 or above max_pairs.
  generated_pairs(std::uint64_t pairs, std::uint64_t seed);

  std::uint64_t size() const noexcept { return pairs_; }
  std::uint64_t seed() const noexcept { return seed_; }
  std::uint64_t groups() const noexcept { return groups_; }
  std::uint64_t slots() const noexcept { return groups_ * slots_per_from; }

  std::uint64_t from_id(std::uint64_t g) const noexcept;
  // The from-id number of a record id, npos when no generated pair has it.
  std::uint64_t group_of(std::uint64_t from_id) const noexcept;
  // The to-ids of from-id number g into out[0..n) (in slot order); returns n.
  std::uint32_t to_ids(std::uint64_t g, std::uint64_t (&out)[slots_per_from]) const noexcept;
  // The slot of (p.from, p.to) (its type ignored), npos when it is not a generated pair.
  std::uint64_t slot_of(pair_id p) const noexcept;
  // f(slot, pair) for every pair, by from-id number.
  void each(const std::function<void(std::uint64_t, pair_id)>& f) const;
  // f(pair) for every pair in gen-pairs' line order: the slots walked in a
  // pseudo-random order (a Feistel permutation), so a from-id's pairs are
  // spread over the whole file, as in a shuffled export. No memory.
  void each_in_file_order(const std::function<void(pair_id)>& f) const;

 private:
  std::uint32_t fanout(std::uint64_t g) const noexcept;
  std::uint64_t pairs_, seed_;
  std::uint64_t groups_ = 0;
  std::uint32_t last_fanout_ = 0;  // the last from-id's to-ids: what is left of N
  std::uint64_t keys_[4];          // Feistel round keys of the from-id permutation
  std::uint64_t fanout_key_, to_key_, order_key_;
};

}  // namespace hubbatch::sandbox
