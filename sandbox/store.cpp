#include "sandbox/store.hpp"

#include "io/pair_reader.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>

#include <sys/mman.h>

namespace hubbatch::sandbox {
namespace {

constexpr std::size_t npos = static_cast<std::size_t>(-1);

// Collects seed pairs; any rejected line fails the whole seed (a test or a
// benchmark must know exactly what the store holds).
struct seed_sink final : io::pair_sink {
  std::vector<pair_id>* out = nullptr;
  std::string path;
  void on_pair(pair_id p, std::uint64_t) override { out->push_back(p); }
  void on_reject(std::uint64_t line, io::reject_reason reason, std::string_view detail,
                 std::string_view) override {
    throw std::runtime_error("seed file " + path + " line " + std::to_string(line) + ": " + io::to_string(reason) +
                             ": " + io::describe(reason) + " (" + std::string(detail) + ")");
  }
};


// Asks for transparent huge pages over the whole 2 MiB pages of [p, p +
// bytes), before they are first touched. The table's lookups land anywhere
// in hundreds of MB: with 4 KiB pages each one also missed the TLB. Only a
// hint (THP may be off); errors are ignored.
void advise_huge_pages(const void* p, std::size_t bytes) noexcept {
  constexpr std::uintptr_t huge = std::uintptr_t{2} << 20;
  const auto begin = (reinterpret_cast<std::uintptr_t>(p) + huge - 1) & ~(huge - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(p) + bytes) & ~(huge - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

// A new buffer of room for n elements in v (its contents dropped), advised
// for huge pages before anything is written to it.
template <class T>
void reserve_on_huge_pages(std::vector<T>& v, std::size_t n) {
  std::vector<T>().swap(v);
  v.reserve(n);
  advise_huge_pages(v.data(), n * sizeof(T));
}

}  // namespace

void association_store::table::build_index() {
  if (pairs_.size() >= std::numeric_limits<std::uint32_t>::max())
    throw std::runtime_error("seed: more than 4 billion pairs for one pair of object types is not supported");
  std::size_t cap = 16;
  while (2 * cap < 3 * pairs_.size()) cap *= 2;
  reserve_on_huge_pages(index_, cap);
  index_.assign(cap, 0);
  const std::size_t mask = cap - 1;
  for (std::size_t i = 0; i < pairs_.size(); ++i) {
    std::size_t h = pair_id_hash{}(pairs_[i]) & mask;
    while (index_[h] != 0) h = (h + 1) & mask;
    index_[h] = static_cast<std::uint32_t>(i + 1);
  }
}

std::size_t association_store::table::index_of(pair_id p) const noexcept {
  if (generated_) {
    const std::uint64_t s = generated_->slot_of(generated_swapped_ ? pair_id{p.to, p.from} : p);
    if (s == generated_pairs::npos || removed_.empty()) return npos;  // (removed_ is empty before finalize())
    return removed_[s / 64] >> (s % 64) & 1 ? npos : static_cast<std::size_t>(s);
  }
  if (index_.empty()) return npos;  // before finalize()
  const std::size_t mask = index_.size() - 1;
  for (std::size_t h = pair_id_hash{}(p) & mask;; h = (h + 1) & mask) {
    const std::uint32_t at = index_[h];
    if (at == 0) return npos;
    if (pairs_[at - 1].from == p.from && pairs_[at - 1].to == p.to) {  // a request's pair may carry a type
      const std::size_t i = at - 1;
      return removed_[i / 64] >> (i % 64) & 1 ? npos : i;
    }
  }
}

template <class F>
void association_store::table::each_seed(F&& f) const {
  if (generated_) {
    generated_->each([&](std::uint64_t slot, pair_id p) {
      f(static_cast<std::size_t>(slot), generated_swapped_ ? pair_id{p.to, p.from} : p);
    });
    return;
  }
  for (std::size_t i = 0; i < pairs_.size(); ++i) f(i, pairs_[i]);
}

template <class F>
void association_store::table::each_prefetched(std::span<const pair_id> pairs, bool swapped, F&& f) const {
  const std::size_t mask = index_.empty() ? 0 : index_.size() - 1;
  constexpr std::size_t block = 16;
  pair_id q[block];
  std::size_t slot[block];
  for (std::size_t base = 0; base < pairs.size(); base += block) {
    const std::size_t m = std::min(block, pairs.size() - base);
    for (std::size_t k = 0; k < m; ++k) {  // the index slots
      const pair_id p = pairs[base + k];
      q[k] = swapped ? pair_id{p.to, p.from} : p;
      slot[k] = pair_id_hash{}(q[k]) & mask;
      if (!index_.empty()) __builtin_prefetch(&index_[slot[k]]);
    }
    if (!index_.empty()) {
      for (std::size_t k = 0; k < m; ++k) {  // the pairs and removed-bits they point at
        const std::uint32_t at = index_[slot[k]];
        if (at != 0) {
          __builtin_prefetch(&pairs_[at - 1]);
          __builtin_prefetch(&removed_[(at - 1) / 64]);
        }
      }
    }
    for (std::size_t k = 0; k < m; ++k) f(base + k, q[k]);
  }
}

void association_store::table::contains_many(std::span<const pair_id> pairs, bool swapped,
                                              std::uint8_t* present) const noexcept {
  each_prefetched(pairs, swapped, [&](std::size_t i, pair_id q) { present[i] = contains(q) ? 1 : 0; });
}

std::uint64_t association_store::table::remove_many(std::span<const pair_id> pairs, bool swapped,
                                                    const std::uint8_t* only_if) noexcept {
  std::uint64_t n = 0;
  each_prefetched(pairs, swapped, [&](std::size_t i, pair_id q) {
    if (only_if[i]) n += remove(q);
  });
  return n;
}

bool association_store::table::seeded(pair_id p) const noexcept {
  if (index_of(p) != npos) return true;
  return same_type_ && index_of(pair_id{p.to, p.from}) != npos;
}

pair_id association_store::table::key(pair_id p) const noexcept {
  if (same_type_ && p.from > p.to) return pair_id{p.to, p.from};
  return pair_id{p.from, p.to};
}

bool association_store::table::contains(pair_id p) const noexcept {
  if (!overlay_.empty() && overlay_.contains(key(p))) return true;
  return seeded(p);
}

std::uint32_t association_store::table::remove(pair_id p) noexcept {
  std::uint32_t n = 0;
  auto drop = [&](pair_id q) {
    auto i = index_of(q);
    if (i == npos) return;
    removed_[i / 64] |= std::uint64_t{1} << (i % 64);
    --remaining_;
    ++n;
  };
  drop(p);
  if (same_type_ && p.from != p.to) drop(pair_id{p.to, p.from});
  if (!overlay_.empty()) {
    if (auto it = overlay_.find(key(p)); it != overlay_.end()) {
      overlay_.erase(it);
      if (n == 0) {  // created, not seeded: it counted once
        --remaining_;
        n = 1;
      }
    }
  }
  if (n && degrees_built_) count_degrees(key(p), -1);
  return n;
}

void association_store::table::types_of(pair_id p, std::vector<assoc_type>& out) const {
  out.clear();
  if (auto it = overlay_.find(key(p)); it != overlay_.end()) {
    out = it->second;
  } else if (seeded(p)) {
    out.push_back(default_);
  }
}

void association_store::table::types_of_associated(pair_id p, std::vector<assoc_type>& out) const {
  out.clear();
  if (!overlay_.empty())
    if (auto it = overlay_.find(key(p)); it != overlay_.end()) {
      out = it->second;
      return;
    }
  out.push_back(default_);
}

association_store::table::create_result association_store::table::create(pair_id p,
                                                                         std::span<const assoc_type> types) {
  create_result r;
  const pair_id k = key(p);
  auto it = overlay_.find(k);
  if (it == overlay_.end()) {
    const bool was = seeded(p);
    std::vector<assoc_type> set{default_};
    for (auto t : types) set.push_back(t);
    std::sort(set.begin(), set.end());
    set.erase(std::unique(set.begin(), set.end()), set.end());
    r.created = !was;
    r.added = static_cast<std::uint32_t>(set.size()) - (was ? 1 : 0);
    if (r.added == 0) return r;  // a seed asked for its default type again
    overlay_.emplace(k, std::move(set));
    index_overlay(k);
    if (r.created) {
      ++remaining_;
      if (degrees_built_) count_degrees(k, +1);
    }
    return r;
  }
  auto& set = it->second;
  for (auto t : types) {
    auto at = std::lower_bound(set.begin(), set.end(), t);
    if (at != set.end() && *at == t) continue;
    set.insert(at, t);
    ++r.added;
  }
  return r;
}

association_store::table::remove_types_result association_store::table::remove_types(
    pair_id p, std::span<const assoc_type> types) {
  remove_types_result r;
  if (std::find(types.begin(), types.end(), default_) != types.end()) {
    r.associations = remove(p);
    return r;
  }
  auto it = overlay_.find(key(p));
  if (it == overlay_.end()) return r;  // a seed's only type is the default
  auto& set = it->second;
  for (auto t : types) {
    auto at = std::lower_bound(set.begin(), set.end(), t);
    if (at == set.end() || *at != t) continue;
    set.erase(at);
    ++r.labels;
  }
  // Back to a plain seed: the arrays say the same, so the overlay may forget it.
  if (set.size() == 1 && seeded(p)) overlay_.erase(it);
  return r;
}

void association_store::table::count_degrees(pair_id k, int delta) {
  auto bump = [&](int side, std::uint64_t id) {
    auto& n = degree_[side][id];
    n = static_cast<std::uint32_t>(static_cast<std::int64_t>(n) + delta);
  };
  if (same_type_) {
    bump(0, k.from);
    if (k.to != k.from) bump(0, k.to);
  } else {
    bump(0, k.from);
    bump(1, k.to);
  }
}

std::uint32_t association_store::table::degree(std::uint64_t id, bool first) {
  if (!degrees_built_) {
    degrees_built_ = true;
    each_seed([&](std::size_t i, pair_id p) {
      if (removed_[i / 64] >> (i % 64) & 1) return;
      // A same-type pair seeded in both orientations is one association.
      if (same_type_ && p.from > p.to && index_of(pair_id{p.to, p.from}) != npos) return;
      if (!overlay_.contains(key(p))) count_degrees(key(p), +1);
    });
    for (const auto& [k, set] : overlay_) count_degrees(k, +1);
  }
  const auto& m = degree_[same_type_ || first ? 0 : 1];
  auto it = m.find(id);
  return it == m.end() ? 0 : it->second;
}

void association_store::table::index_overlay(pair_id k) {
  if (!overlay_indexed_) return;
  overlay_by_[0][k.from].push_back(k.to);
  overlay_by_[1][k.to].push_back(k.from);
}

bool association_store::table::associated(std::uint64_t id, bool first, std::uint64_t min_id, std::size_t limit,
                                          std::vector<std::uint64_t>& out) {
  out.clear();
  const std::size_t want = limit + 1;  // one more than a page tells whether more follow
  auto removed = [&](std::size_t i) { return removed_[i / 64] >> (i % 64) & 1; };
  // Each source gives at most `want` ids above min_id in order: enough for
  // the first `want` of their union.
  if (generated_) {  // never a same-type table
    generated_associated(id, first != generated_swapped_, min_id, want, out);
  } else if (same_type_ || first) {
    auto it = std::lower_bound(pairs_.begin(), pairs_.end(), pair_id{id, min_id});
    for (std::size_t n = 0; it != pairs_.end() && it->from == id && n < want; ++it)
      if (!removed(static_cast<std::size_t>(it - pairs_.begin()))) {
        out.push_back(it->to);
        ++n;
      }
  }
  if (!generated_ && (same_type_ || !first)) {
    if (by_second_.size() != pairs_.size()) {
      by_second_.resize(pairs_.size());
      for (std::size_t i = 0; i < pairs_.size(); ++i) by_second_[i] = static_cast<std::uint32_t>(i);
      std::sort(by_second_.begin(), by_second_.end(), [&](std::uint32_t x, std::uint32_t y) {
        return std::pair(pairs_[x].to, pairs_[x].from) < std::pair(pairs_[y].to, pairs_[y].from);
      });
    }
    auto it = std::lower_bound(by_second_.begin(), by_second_.end(), std::pair(id, min_id),
                               [&](std::uint32_t x, const std::pair<std::uint64_t, std::uint64_t>& v) {
                                 return std::pair(pairs_[x].to, pairs_[x].from) < v;
                               });
    for (std::size_t n = 0; it != by_second_.end() && pairs_[*it].to == id && n < want; ++it)
      if (!removed(*it)) {
        out.push_back(pairs_[*it].from);
        ++n;
      }
  }
  if (!overlay_.empty() || overlay_indexed_) {
    if (!overlay_indexed_) {
      overlay_indexed_ = true;
      for (const auto& [k, set] : overlay_) index_overlay(k);
    }
    for (int side : {0, 1}) {
      if (!same_type_ && side != (first ? 0 : 1)) continue;
      auto at = overlay_by_[side].find(id);
      if (at == overlay_by_[side].end()) continue;
      auto& others = at->second;
      // Drop what the overlay no longer holds (archived, or back to a plain seed).
      std::erase_if(others, [&](std::uint64_t o) {
        return !overlay_.contains(key(side == 0 ? pair_id{id, o} : pair_id{o, id}));
      });
      std::sort(others.begin(), others.end());
      others.erase(std::unique(others.begin(), others.end()), others.end());
      if (others.empty()) {
        overlay_by_[side].erase(at);
        continue;
      }
      for (auto it = std::lower_bound(others.begin(), others.end(), min_id); it != others.end(); ++it)
        out.push_back(*it);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  const bool more = out.size() > limit;
  if (more) out.resize(limit);
  return more;
}

void association_store::table::generated_associated(std::uint64_t id, bool by_from, std::uint64_t min_id,
                                                    std::size_t want, std::vector<std::uint64_t>& out) {
  auto removed = [&](std::uint64_t s) { return removed_[s / 64] >> (s % 64) & 1; };
  const std::size_t before = out.size();
  if (by_from) {  // a from-id's to-ids are computed: nothing to build
    const std::uint64_t g = generated_->group_of(id);
    if (g == generated_pairs::npos) return;
    std::uint64_t to[generated_pairs::slots_per_from];
    const std::uint32_t n = generated_->to_ids(g, to);
    for (std::uint32_t j = 0; j < n; ++j)
      if (to[j] >= min_id && !removed(g * generated_pairs::slots_per_from + j)) out.push_back(to[j]);
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(before), out.end());
    if (out.size() - before > want) out.resize(before + want);
    return;
  }
  if (generated_by_to_.empty()) {
    generated_by_to_.reserve(generated_->size());
    generated_->each([&](std::uint64_t, pair_id p) { generated_by_to_.emplace_back(p.to, p.from); });
    std::sort(generated_by_to_.begin(), generated_by_to_.end());
  }
  auto it = std::lower_bound(generated_by_to_.begin(), generated_by_to_.end(), std::pair(id, min_id));
  for (std::size_t n = 0; it != generated_by_to_.end() && it->first == id && n < want; ++it)
    if (!removed(generated_->slot_of(pair_id{it->second, it->first}))) {
      out.push_back(it->second);
      ++n;
    }
}

const association_store::entry* association_store::lookup(const std::string& a, const std::string& b) const noexcept {
  for (const auto& e : tables_)
    if (e.a == a && e.b == b) return &e;
  return nullptr;
}

association_store::entry& association_store::add_table(const std::string& a, const std::string& b) {
  auto& e = tables_.emplace_back();
  e.a = a;
  e.b = b;
  e.t.same_type_ = a == b;
  e.t.default_ = sandbox::default_type(a, b);
  return e;
}

void association_store::add(const object_type& from, const object_type& to, std::span<const pair_id> pairs) {
  bool swapped = to.key < from.key;
  const std::string& a = swapped ? to.key : from.key;
  const std::string& b = swapped ? from.key : to.key;
  auto* e = const_cast<entry*>(lookup(a, b));
  if (!e) e = &add_table(a, b);
  if (e->t.generated_ && !pairs.empty())
    throw std::runtime_error("seed: a generated seed cannot share its object types with another seed");
  auto& v = e->t.pairs_;
  v.reserve(v.size() + pairs.size());
  for (auto p : pairs) v.push_back(swapped ? pair_id{p.to, p.from} : pair_id{p.from, p.to});  // seeds carry no type
}

void association_store::add_generated(const object_type& from, const object_type& to, std::uint64_t pairs,
                                      std::uint64_t seed) {
  if (from.key == to.key) throw std::runtime_error("seed: a generated seed needs two different object types");
  const bool swapped = to.key < from.key;
  const std::string& a = swapped ? to.key : from.key;
  const std::string& b = swapped ? from.key : to.key;
  auto* e = const_cast<entry*>(lookup(a, b));
  if (!e) e = &add_table(a, b);
  if (e->t.generated_ || !e->t.pairs_.empty())
    throw std::runtime_error("seed: a generated seed cannot share its object types with another seed");
  e->t.generated_ = std::make_unique<const generated_pairs>(pairs, seed);
  e->t.generated_swapped_ = swapped;
}

void association_store::finalize() {
  for (auto& e : tables_) {
    if (e.t.generated_) {
      e.t.removed_.assign((e.t.generated_->slots() + 63) / 64, 0);
      e.t.remaining_ = e.t.generated_->size();
      e.t.build_index();  // empty: every seed is found through generated_
      continue;
    }
    auto& v = e.t.pairs_;
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    std::vector<pair_id> packed;  // shrink_to_fit, into memory advised for huge pages first
    reserve_on_huge_pages(packed, v.size());
    packed.assign(v.begin(), v.end());
    v.swap(packed);
    e.t.removed_.assign((v.size() + 63) / 64, 0);
    e.t.remaining_ = v.size();
    e.t.build_index();
  }
}

association_store::handle association_store::find(const object_type& from, const object_type& to) {
  bool swapped = to.key < from.key;
  auto* e = lookup(swapped ? to.key : from.key, swapped ? from.key : to.key);
  return handle{e ? const_cast<table*>(&e->t) : nullptr, swapped};
}

association_store::handle association_store::find_or_add(const object_type& from, const object_type& to) {
  auto h = find(from, to);
  if (h.t) return h;
  h.t = &add_table(h.swapped ? to.key : from.key, h.swapped ? from.key : to.key).t;
  h.t->build_index();  // empty: lookups find nothing
  return h;
}

std::vector<pair_id> association_store::remaining_pairs(const object_type& from, const object_type& to) const {
  bool swapped = to.key < from.key;
  std::vector<pair_id> out;
  const auto* e = lookup(swapped ? to.key : from.key, swapped ? from.key : to.key);
  if (!e) return out;
  const auto& t = e->t;
  auto turn = [&](pair_id p) { return swapped ? pair_id{p.to, p.from} : p; };
  out.reserve(t.remaining_);
  t.each_seed([&](std::size_t i, pair_id p) {
    if (!(t.removed_[i / 64] >> (i % 64) & 1)) out.push_back(turn(p));
  });
  for (const auto& [k, set] : t.overlay_)
    if (!t.seeded(k)) out.push_back(turn(k));
  if (swapped || !t.overlay_.empty() || t.generated_) std::sort(out.begin(), out.end());
  return out;
}

std::vector<pair_id> association_store::typed_pairs(const object_type& from, const object_type& to) const {
  bool swapped = to.key < from.key;
  std::vector<pair_id> out;
  const auto* e = lookup(swapped ? to.key : from.key, swapped ? from.key : to.key);
  if (!e) return out;
  const auto& t = e->t;
  std::vector<assoc_type> types;
  for (auto p : remaining_pairs(from, to)) {
    t.types_of(swapped ? pair_id{p.to, p.from} : p, types);
    for (auto ty : types) out.push_back(pair_id{p.from, p.to, ty});
  }
  return out;
}

std::uint64_t association_store::remaining_total() const noexcept {
  std::uint64_t n = 0;
  for (const auto& e : tables_) n += e.t.remaining_;
  return n;
}

void load_seeds(const config& cfg, association_store& store) {
  std::vector<pair_id> buf;
  for (const auto& s : cfg.seeds) {
    auto from = resolve_object_type(s.from_type);
    auto to = resolve_object_type(s.to_type);
    if (!from) throw std::runtime_error("seed: unknown object type '" + s.from_type + "'");
    if (!to) throw std::runtime_error("seed: unknown object type '" + s.to_type + "'");
    store.add(*from, *to, s.pairs);
    if (!s.file.empty()) {
      buf.clear();
      seed_sink sink;
      sink.out = &buf;
      sink.path = s.file;
      io::read_pairs_file(s.file, io::input_format::csv, sink);
      store.add(*from, *to, buf);
    }
  }
  std::vector<pair_id>().swap(buf);  // before finalize() copies the arrays
  if (const auto& g = cfg.seed_generated; g.pairs > 0) {
    auto from = resolve_object_type(g.from_type);
    auto to = resolve_object_type(g.to_type);
    if (!from || !to) throw std::runtime_error("seed: unknown object type in --seed-types");
    store.add_generated(*from, *to, g.pairs, g.seed);
  }
  store.finalize();
}

}  // namespace hubbatch::sandbox
