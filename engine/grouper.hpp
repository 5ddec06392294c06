// Groups pairs by source record into batches for batch/archive.
//
// A group is a (from-id, association type): pairs with a type (create with a
// label, archive-labels) group only with pairs of the same type. Typed pairs
// wait in a grouper of their own, made on the first one: they go to another
// endpoint than untyped pairs (create), so a batch holds one kind, and kept
// apart each kind fills its batches however the input interleaves them.
// Archive's pairs have no type, so for it a group is a from-id.
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
#include <memory>
#include <unordered_set>
#include <vector>

namespace hubbatch::engine {

class pair_grouper {
 public:
  // window_pairs >= 1; max_inputs >= 1 inputs per batch; max_pairs >= 1
  // pairs per batch (0 = no cap beyond max_inputs).
  pair_grouper(std::size_t window_pairs, std::size_t max_inputs, std::size_t max_pairs);

  // Adds a pair read from input line `line`; false (and nothing stored) when
  // the same pair is already waiting.
  bool add(pair_id p, std::uint64_t line = 0);
  // add() for each pair in order, accepted[i] receiving its result. Faster
  // for runs of pairs: the table slots are prefetched a block at a time.
  void add_many(const pair_id* pairs, const std::uint64_t* lines, std::size_t n, bool* accepted);

  // add_many() for pairs that come in runs, one run per from-id (a partition
  // of the input grouped by from-id, engine/feed.cpp): a pair joins the last
  // group when it has the same from-id, and a new from-id starts a group that
  // is not entered in the index; it is looked up there only while groups
  // added by add()/add_many() are waiting. Contract: between two calls of
  // begin_runs(), a from-id whose run ended does not come again while its
  // group waits (else it would get a second group). add()/add_many() index
  // such groups before they look anything up, so the calls can be mixed.
  void begin_runs();
  void add_runs(const pair_id* pairs, const std::uint64_t* lines, std::size_t n, bool* accepted);

  std::size_t pending_pairs() const noexcept { return pending_ + typed_pending(); }
  // The window holds window_pairs or more: take batches before adding more.
  bool full() const noexcept { return pending_pairs() >= window_; }
  bool empty() const noexcept { return pending_pairs() == 0; }

  // Moves the next batch into `out` (cleared first), of the kind (typed or
  // untyped) with more pairs waiting: whole groups, oldest first, at most max_inputs inputs and max_pairs pairs; a group larger than
  // the pair cap is split across batches. Pairs of one from-id are contiguous
  // in `out`, each (from-id, type) appears at most once, and to-ids keep their
  // arrival order. Returns false when nothing is pending.
  //
  // Filling rule: groups are taken whole in FIFO order; the batch closes at
  // the first group that does not fit in the pairs left (no skipping ahead,
  // so no group starves). A group that would not fit even an empty batch is
  // split anyway, so it fills whatever room is left, then continues at the
  // front of the next batch. O(1) amortised per pair.
  bool take_batch(std::vector<pair_id>& out);
  // The same, with the input line of each pair in `lines` (parallel to `out`).
  bool take_batch(std::vector<pair_id>& out, std::vector<std::uint64_t>& lines);

  // Changes the caps for later batches (after a "batch too large" 400).
  void set_limits(std::size_t max_inputs, std::size_t max_pairs);
  // For an operation whose input is one pair (create, archive-labels): a
  // group is split wherever the batch is full, and every pair counts as an
  // input, so batches come out full (whole groups would leave room unused).
  void set_one_pair_per_input(bool yes);
  std::size_t max_inputs() const noexcept { return max_inputs_; }
  std::size_t max_pairs() const noexcept { return max_pairs_; }

 private:
  // One from-id's waiting to-ids: to[head..] are pending, to[..head) were
  // already taken (a group bigger than the pair cap drains over several
  // batches; the taken prefix is dropped once it is the larger half).
  // The to-ids of one group: up to six inline (most groups hold one to
  // six: the benchmark data has 1-7 to-ids per from-id), the rest on the
  // heap. Saves two allocations (to-ids and lines) and a cache miss per
  // group on the hot path; with three, malloc/free was ~10% of the client's
  // CPU (bench/results).
  class id_list {
   public:
    id_list() noexcept = default;
    id_list(id_list&& o) noexcept;
    id_list& operator=(id_list&& o) noexcept;
    id_list(const id_list&) = delete;
    ~id_list();
    void push_back(std::uint64_t v);
    std::size_t size() const noexcept { return size_; }
    const std::uint64_t* begin() const noexcept { return data(); }
    const std::uint64_t* end() const noexcept { return data() + size_; }
    std::uint64_t operator[](std::size_t i) const noexcept { return data()[i]; }
    void erase_prefix(std::size_t n) noexcept;
    void clear() noexcept;  // empty, and back to the inline storage

   private:
    const std::uint64_t* data() const noexcept { return heap_ ? heap_ : inline_; }
    std::uint64_t* data() noexcept { return heap_ ? heap_ : inline_; }
    std::uint64_t* heap_ = nullptr;
    std::uint32_t size_ = 0;
    static constexpr std::uint32_t inline_capacity = 6;
    std::uint32_t cap_ = inline_capacity;
    std::uint64_t inline_[inline_capacity] = {};
  };

  struct group {
    std::uint64_t from;
    assoc_type type;  // a group is one (from-id, type): pairs of different types never share an input
    id_list to;
    id_list lines;  // input line of each to-id (same indices)
    std::uint32_t head = 0;
    std::uint32_t slot = 0;  // its entry in table_ (kept current across rehashes), or unindexed
    // For a group with more than small_group waiting to-ids: those ids, for
    // O(1) duplicate checks (small groups are scanned, which is faster).
    std::unique_ptr<std::unordered_set<std::uint64_t>> big;
  };
  static constexpr std::size_t small_group = 16;

  // The FIFO of groups: one circular buffer of slots, doubled when full and
  // reused as groups leave, so a group costs no allocation of its own
  // (std::deque allocated a node every three groups, and malloc/free were
  // ~9% of the unthrottled client's CPU). References stay valid until the
  // next emplace_back().
  class group_ring {
   public:
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    group& operator[](std::size_t i) noexcept { return slots_[(head_ + i) & (slots_.size() - 1)]; }
    group& front() noexcept { return slots_[head_]; }
    group& back() noexcept { return (*this)[size_ - 1]; }
    group& emplace_back();    // an empty group at the back
    void pop_front() noexcept;  // empties the front group's slot for reuse

   private:
    std::vector<group> slots_;  // a power of two of them (or none)
    std::size_t head_ = 0;
    std::size_t size_ = 0;
  };

  // from-id -> absolute group number, open addressing with linear probing.
  // A flat table keeps the per-pair cost to one or two cache lines (node-based
  // maps were most of the CPU). Groups remember their slot, so removal is one
  // store (a tombstone) instead of a second probe; tombstones are cleared by
  // rebuilding the table from the live groups when it gets half full.
  static constexpr std::uint64_t tombstone = ~0ULL;
  struct slot {
    std::uint64_t from = 0;
    std::uint64_t group = 0;  // absolute group number + 1; 0 = empty; tombstone = removed
  };
  static constexpr std::uint32_t unindexed = ~std::uint32_t{0};
  void rebuild_index(std::size_t live_after_insert);
  bool add_at(pair_id p, std::uint64_t line, std::size_t home);  // add() with the slot index to start probing at
  // add_many() for pairs all of this grouper's kind (typed in typed_, untyped here).
  void add_block(const pair_id* pairs, const std::uint64_t* lines, std::size_t n, bool* accepted);
  group* find(pair_id p);                                       // the indexed waiting group of (from, type), or null
  bool join(group& g, std::uint64_t to, std::uint64_t line);    // false: the pair is already waiting
  void start_group(pair_id p, std::uint64_t line, std::uint32_t slot);
  bool take(std::vector<pair_id>& out, std::vector<std::uint64_t>* lines);
  bool waiting(const group& g, std::uint64_t to) const;

  std::size_t typed_pending() const noexcept { return typed_ ? typed_->pending_ : 0; }
  pair_grouper& typed();  // typed_, made on first use
  // add() for each pair, typed ones into typed_: the slow path of
  // add_many()/add_runs() for a block holding a typed pair.
  void add_each(const pair_id* pairs, const std::uint64_t* lines, std::size_t n, bool* accepted);

  std::unique_ptr<pair_grouper> typed_;  // the typed pairs (see the top); null until one comes
  bool holds_typed_ = false;             // this is some grouper's typed_
  bool pair_inputs_ = false;             // set_one_pair_per_input()
  std::size_t window_;
  std::size_t max_inputs_;
  std::size_t max_pairs_;
  std::size_t pending_ = 0;
  group_ring groups_;             // FIFO by first appearance
  std::size_t popped_ = 0;        // groups popped from the front so far
  std::vector<slot> table_;       // capacity a power of two, live + tombstones at most half full
  std::size_t table_filled_ = 0;  // live entries plus tombstones
  std::size_t unindexed_ = 0;     // waiting groups started by add_runs() and not in table_
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
