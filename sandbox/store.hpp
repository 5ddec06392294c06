// In-memory association store of the sandbox.
//
// HubSpot associations are bidirectional: archiving companies→contacts
// (9001, 101) removes the contacts→companies association (101, 9001). So the
// store keeps one table per *unordered* pair of object types, with pairs
// oriented from the type whose canonical key sorts first. For a type
// associated with itself (contacts→contacts) pairs are kept as seeded and a
// removal takes both orientations.
//
// Memory: a table is a sorted, deduplicated std::vector<pair_id> (16 bytes a
// pair), a removed-bitmap (1 bit a pair) and a hash index of positions (4 to
// 8 bytes a pair; under 2^32 pairs a table), the large arrays on transparent
// huge pages where the kernel allows. A lookup costs a cache miss or two
// whatever the size, and a request's lookups are prefetched together (a
// binary search over 10 million pairs took ~13 misses, each with a TLB miss,
// and made the sandbox, not the client, the bottleneck of the benchmark's
// Scale scenario). 10 million pairs take about 230 MB (plus 160 MB briefly
// while seeding).
// Not thread-safe: the server touches it only from its io thread.
#pragma once

#include "io/pair.hpp"
#include "sandbox/config.hpp"
#include "sandbox/object_types.hpp"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace hubbatch::sandbox {

class association_store {
 public:
  // One table for an unordered type pair.
  class table {
   public:
    // Whether (from, to), oriented as stored, is present (not archived).
    bool contains(pair_id p) const noexcept;
    // contains() for each of `pairs` (swapped first when `swapped`) into
    // present[i]. The lookups go a block at a time with prefetches, so their
    // cache misses overlap instead of costing one after another (a table of
    // millions of pairs is far bigger than the cache).
    void contains_many(std::span<const pair_id> pairs, bool swapped, std::uint8_t* present) const noexcept;
    // remove() for each of `pairs` (swapped first when `swapped`) whose
    // only_if[i] is set, prefetched the same way; returns how many
    // associations were removed.
    std::uint64_t remove_many(std::span<const pair_id> pairs, bool swapped, const std::uint8_t* only_if) noexcept;
    // Removes (from, to) and, for a same-type table, (to, from). Returns how
    // many associations were removed (0 when absent).
    std::uint32_t remove(pair_id p) noexcept;
    std::uint64_t remaining() const noexcept { return remaining_; }

   private:
    friend class association_store;
    std::size_t index_of(pair_id p) const noexcept;  // npos when absent or removed
    void build_index();
    // f(i, pair) for each of `pairs`, oriented, a block at a time after
    // prefetching their index slots, then what the slots point at.
    template <class F>
    void each_prefetched(std::span<const pair_id> pairs, bool swapped, F&& f) const;
    bool same_type_ = false;
    std::vector<pair_id> pairs_;            // sorted, unique after finalize()
    std::vector<std::uint64_t> removed_;    // bit i set: pairs_[i] archived
    // Open addressing over pairs_ (linear probing, at most 2/3 full): a slot
    // holds position + 1, 0 = empty. Built by finalize().
    std::vector<std::uint32_t> index_;
    std::uint64_t remaining_ = 0;
  };

  // A table as seen from one request direction: `swapped` means the request's
  // (from, to) must be swapped to match the stored orientation.
  struct handle {
    table* t = nullptr;  // null: no seeds for this type pair (everything is absent)
    bool swapped = false;
    pair_id oriented(pair_id p) const noexcept { return swapped ? pair_id{p.to, p.from} : p; }
    // present[i] = whether pairs[i] is associated (all 0 without a table).
    void contains_many(std::span<const pair_id> pairs, std::uint8_t* present) const noexcept {
      if (t) {
        t->contains_many(pairs, swapped, present);
      } else {
        std::fill_n(present, pairs.size(), std::uint8_t{0});
      }
    }
    // Removes the pairs whose only_if[i] is set; how many associations went.
    std::uint64_t remove_many(std::span<const pair_id> pairs, const std::uint8_t* only_if) noexcept {
      return t ? t->remove_many(pairs, swapped, only_if) : 0;
    }
  };

  // Seeding, before finalize(): appends pairs for (from → to).
  void add(const object_type& from, const object_type& to, std::span<const pair_id> pairs);
  // Sorts and deduplicates every table; call once after seeding.
  void finalize();

  // The table for a request direction (lookup by canonical keys).
  handle find(const object_type& from, const object_type& to);

  // Remaining pairs oriented as (from → to), sorted.
  std::vector<pair_id> remaining_pairs(const object_type& from, const object_type& to) const;
  std::uint64_t remaining_total() const noexcept;

 private:
  struct entry {
    std::string a, b;  // canonical keys, a <= b
    table t;
  };
  const entry* lookup(const std::string& a, const std::string& b) const noexcept;
  std::deque<entry> tables_;  // few type pairs: a linear scan beats a map; deque keeps addresses stable
};

// Loads every cfg.seeds entry (file and in-memory pairs) into `store` and
// finalizes it. Throws std::runtime_error on an unknown object type, an
// unreadable file or a rejected CSV line (naming file and line).
void load_seeds(const config& cfg, association_store& store);

}  // namespace hubbatch::sandbox
