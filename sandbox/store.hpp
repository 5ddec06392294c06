// In-memory association store of the sandbox.
//
// HubSpot associations are bidirectional: archiving companies→contacts
// (9001, 101) removes the contacts→companies association (101, 9001). So the
// store keeps one table per *unordered* pair of object types, with pairs
// oriented from the type whose canonical key sorts first. For a type
// associated with itself (contacts→contacts) seeded pairs are kept as seeded
// and a removal takes both orientations; created ones are kept as (low id,
// high id).
//
// An association carries one or more types (sandbox/assoc_types.hpp), in the
// table's orientation; every one carries the table's unlabelled default type.
// Seeds have the default type only, so they stay in a flat array: a sorted,
// deduplicated std::vector<pair_id> (24 bytes a pair), a removed-bitmap (1 bit
// a pair) and a hash index of positions (6 to 12 bytes a pair; under 2^32 pairs
// a table), the large arrays on transparent huge pages where the kernel
// allows. A pair created later, or a seed that gained a label, has an entry in
// an overlay (a flat hash map from pair to its whole type set) that wins over
// the seed arrays; archiving drops both. A pure archive workload leaves the
// overlay empty and pays one emptiness test per pair for it.
//
// A generated seed (--seed-generated, sandbox/generated_pairs.hpp) stores no
// pairs: they are computed from the seed when asked for, and the
// removed-bitmap has a bit a slot (about 2 bits a pair), so 100 million pairs
// take 25 MB instead of about 3.5 GB (and nearly twice that while seeding).
//
// A lookup costs a cache miss or two whatever the size, and a request's
// lookups are prefetched together (a binary search over 10 million pairs took
// ~13 misses, each with a TLB miss, and made the sandbox, not the client, the
// bottleneck of the benchmark's Scale scenario). 10 million pairs take about
// 300 MB (550 MB at the peak while seeding: the parsed file and the sorted
// copy). Reads (batch/read) add 4
// bytes a seed when they ask from the second type's side, and an index of
// the created pairs by id; both are built on the first read.
// Not thread-safe: the server touches it only from its io thread.
#pragma once

#include "io/pair.hpp"
#include "sandbox/config.hpp"
#include "sandbox/assoc_types.hpp"
#include "sandbox/generated_pairs.hpp"
#include "sandbox/object_types.hpp"

#include <boost/unordered/unordered_flat_map.hpp>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
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
    // Whether (from, to), oriented as stored, is associated (any type).
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
    // Removes (from, to) with every type and, for a same-type table, (to,
    // from). Returns how many associations were removed (0 when absent).
    std::uint32_t remove(pair_id p) noexcept;
    std::uint64_t remaining() const noexcept { return remaining_; }

    // The unlabelled type of this table's orientation.
    assoc_type default_type() const noexcept { return default_; }
    // The types of p (oriented as stored) into `out` (cleared first), sorted; empty when not associated.
    void types_of(pair_id p, std::vector<assoc_type>& out) const;
    // types_of() for a pair known to be associated (associated() gave it):
    // one overlay lookup, no seed lookup.
    void types_of_associated(pair_id p, std::vector<assoc_type>& out) const;
    // Associates p with `types` (table orientation) and the default type.
    // `created`: p was not associated before; `added`: types p did not carry
    // before (the default of a new association included). Idempotent.
    struct create_result {
      bool created = false;
      std::uint32_t added = 0;
    };
    create_result create(pair_id p, std::span<const assoc_type> types);
    // Removes `types` (table orientation) from p; the default type among them
    // removes the whole association (the spec's cascade). `associations`:
    // associations removed as remove() counts them; `labels`: other types
    // removed from an association that stays.
    struct remove_types_result {
      std::uint32_t associations = 0;
      std::uint32_t labels = 0;
    };
    remove_types_result remove_types(pair_id p, std::span<const assoc_type> types);
    // How many records of the other type the record `id` on side `first`
    // (the table's first type) or second is associated with. The counts are
    // built on first use and kept up to date from then on.
    std::uint32_t degree(std::uint64_t id, bool first);
    // batch/read: the ids of the records associated with `id` (on side
    // `first`, the table's first type, or its second; either for a
    // same-type table) that are >= `min_id`, ascending, at most `limit` of
    // them into `out` (cleared first). Returns whether more follow. Seeds
    // are found by binary search (the arrays are sorted by first id; a
    // second-side permutation is built on the first read from that side),
    // created pairs through a per-id index of the overlay built on the first
    // read and kept from then on; no read scans the table.
    bool associated(std::uint64_t id, bool first, std::uint64_t min_id, std::size_t limit,
                    std::vector<std::uint64_t>& out);

   private:
    friend class association_store;
    std::size_t index_of(pair_id p) const noexcept;  // npos when absent or removed
    bool seeded(pair_id p) const noexcept;           // a seed, in either orientation for a same-type table
    pair_id key(pair_id p) const noexcept;           // the overlay's key: no type; (low, high) for same-type
    void count_degrees(pair_id k, int delta);
    void build_index();
    // f(position, pair) for every seed, removed or not, oriented as stored:
    // positions are pairs_' indexes, or a generated seed's slots.
    template <class F>
    void each_seed(F&& f) const;
    // A generated seed's ids associated with `id` from the side of its
    // from-ids (by_from) or its to-ids, >= min_id, not removed, ascending, at
    // most `want` of them appended to out.
    void generated_associated(std::uint64_t id, bool by_from, std::uint64_t min_id, std::size_t want,
                              std::vector<std::uint64_t>& out);
    void index_overlay(pair_id k);  // adds a new overlay key to overlay_by_ (once it is built)
    // f(i, pair) for each of `pairs`, oriented, a block at a time after
    // prefetching their index slots, then what the slots point at.
    template <class F>
    void each_prefetched(std::span<const pair_id> pairs, bool swapped, F&& f) const;
    bool same_type_ = false;
    std::vector<pair_id> pairs_;            // sorted, unique after finalize()
    std::vector<std::uint64_t> removed_;    // bit i set: pairs_[i] archived (a generated seed: slot i)
    // A generated seed instead of pairs_ (the table holds no other seed);
    // generated_swapped_: its (from, to) are the table's (second, first).
    std::unique_ptr<const generated_pairs> generated_;
    bool generated_swapped_ = false;
    // associated() of a generated seed from its to-ids' side: every pair as
    // (to, from), sorted, built on the first such read (16 bytes a pair).
    std::vector<std::pair<std::uint64_t, std::uint64_t>> generated_by_to_;
    // Open addressing over pairs_ (linear probing, at most 2/3 full): a slot
    // holds position + 1, 0 = empty. Built by finalize().
    std::vector<std::uint32_t> index_;
    std::uint64_t remaining_ = 0;  // associated pairs: seeds not removed + overlay entries without a seed
    assoc_type default_{};
    // Pairs created or relabelled since seeding, keyed by key(): the whole
    // type set, sorted. An entry means associated, whatever the seeds say.
    boost::unordered_flat_map<pair_id, std::vector<assoc_type>, pair_id_hash> overlay_;
    // degree(): records associated per id, [0] for the first type's ids, [1]
    // for the second's ([0] alone for a same-type table).
    bool degrees_built_ = false;
    boost::unordered_flat_map<std::uint64_t, std::uint32_t> degree_[2];
    // associated(): positions of pairs_ sorted by (to, from), 4 bytes a
    // seed, built on the first read of a second-side id (seeds never move).
    std::vector<std::uint32_t> by_second_;
    // associated(): overlay keys by id, [0] first id → second ids, [1]
    // second → first. Appended to when the overlay gains a key; a key the
    // overlay lost since is dropped when its id is next read (so an archive
    // pays nothing here).
    bool overlay_indexed_ = false;
    boost::unordered_flat_map<std::uint64_t, std::vector<std::uint64_t>> overlay_by_[2];
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
  // Seeding, before finalize(): the generated pairs (from → to), computed
  // when asked for (sandbox/generated_pairs.hpp). Throws std::runtime_error
  // when the type pair has other seeds or is one type with itself.
  void add_generated(const object_type& from, const object_type& to, std::uint64_t pairs, std::uint64_t seed);
  // Sorts and deduplicates every table; call once after seeding.
  void finalize();

  // The table for a request direction (lookup by canonical keys).
  handle find(const object_type& from, const object_type& to);
  // find(), adding an empty table when the type pair has none (create).
  handle find_or_add(const object_type& from, const object_type& to);

  // Remaining pairs oriented as (from → to), sorted, without types.
  std::vector<pair_id> remaining_pairs(const object_type& from, const object_type& to) const;
  // Each type of each remaining pair, pairs oriented as (from → to) and
  // types as the table holds them (the caller turns them for a swapped
  // direction), sorted by pair.
  std::vector<pair_id> typed_pairs(const object_type& from, const object_type& to) const;
  std::uint64_t remaining_total() const noexcept;

 private:
  struct entry {
    std::string a, b;  // canonical keys, a <= b
    table t;
  };
  const entry* lookup(const std::string& a, const std::string& b) const noexcept;
  entry& add_table(const std::string& a, const std::string& b);
  std::deque<entry> tables_;  // few type pairs: a linear scan beats a map; deque keeps addresses stable
};

// Loads every cfg.seeds entry (file and in-memory pairs) into `store` and
// finalizes it. Throws std::runtime_error on an unknown object type, an
// unreadable file or a rejected CSV line (naming file and line).
void load_seeds(const config& cfg, association_store& store);

}  // namespace hubbatch::sandbox
