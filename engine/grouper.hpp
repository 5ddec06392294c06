// Groups pairs by source record into batches for batch/archive.
//
// Pairs wait in a bounded window (window_pairs); the to-ids of one from-id
// gathered there go out together as one input, so unsorted input still fills
// requests. Batches take the oldest from-ids first (FIFO by first
// appearance). A duplicate of a pair already waiting in the window is
// refused (the caller counts it as a duplicate); one seen again after its
// batch left is accepted again (dedup is bounded by the window, like memory).
#pragma once

#include "io/pair.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace hubbatch::engine {

class pair_grouper {
 public:
  // window_pairs >= 1; max_inputs >= 1 inputs per batch; max_pairs >= 1
  // pairs per batch (0 = no cap beyond max_inputs).
  pair_grouper(std::size_t window_pairs, std::size_t max_inputs, std::size_t max_pairs);

  // Adds a pair; false (and nothing stored) when the same pair is already waiting.
  bool add(pair_id p);

  std::size_t pending_pairs() const noexcept { return pending_; }
  // The window holds window_pairs or more: take batches before adding more.
  bool full() const noexcept { return pending_ >= window_; }
  bool empty() const noexcept { return pending_ == 0; }

  // Moves the next batch into `out` (cleared first): whole groups, oldest
  // first, at most max_inputs inputs and max_pairs pairs; a group larger than
  // the pair cap is split across batches. Pairs of one from-id are contiguous
  // in `out`, each from-id appears at most once, and to-ids keep their
  // arrival order. Returns false when nothing is pending.
  //
  // Filling rule: groups are taken whole in FIFO order; the batch closes at
  // the first group that does not fit in the pairs left (no skipping ahead,
  // so no group starves). A group that would not fit even an empty batch is
  // split anyway, so it fills whatever room is left, then continues at the
  // front of the next batch. O(1) amortised per pair.
  bool take_batch(std::vector<pair_id>& out);

  // Changes the caps for later batches (after a "batch too large" 400).
  void set_limits(std::size_t max_inputs, std::size_t max_pairs);
  std::size_t max_inputs() const noexcept { return max_inputs_; }
  std::size_t max_pairs() const noexcept { return max_pairs_; }

 private:
  // One from-id's waiting to-ids: to[head..] are pending, to[..head) were
  // already taken (a group bigger than the pair cap drains over several
  // batches; the taken prefix is dropped once it is the larger half).
  struct group {
    std::uint64_t from;
    std::vector<std::uint64_t> to;
    std::size_t head = 0;
  };
  std::size_t window_;
  std::size_t max_inputs_;
  std::size_t max_pairs_;
  std::size_t pending_ = 0;
  std::deque<group> groups_;                                // FIFO by first appearance
  std::unordered_map<std::uint64_t, std::size_t> index_;    // from -> position in groups_ (offset by popped_)
  std::size_t popped_ = 0;                                  // groups popped from the front so far
  std::unordered_set<pair_id, pair_id_hash> waiting_;       // pairs in the window, for dedup
};

// Splits a batch (pairs of one from-id contiguous) into batches of at most
// max_inputs inputs and max_pairs pairs (0 = no pair cap), keeping order:
// concatenated, the result equals `batch`. An input is a maximal run of one
// from-id; runs are split under the same filling rule as take_batch (only a
// run bigger than max_pairs is split). Empty batch -> empty result. Use it to
// halve (max_inputs = inputs / 2 after "batch too large") or to bisect
// (max_inputs = ceil(inputs / 2)).
std::vector<std::vector<pair_id>> split_batch(const std::vector<pair_id>& batch, std::size_t max_inputs,
                                              std::size_t max_pairs);

}  // namespace hubbatch::engine
