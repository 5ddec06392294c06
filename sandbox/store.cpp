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
  if (index_.empty()) return npos;  // before finalize()
  const std::size_t mask = index_.size() - 1;
  for (std::size_t h = pair_id_hash{}(p) & mask;; h = (h + 1) & mask) {
    const std::uint32_t at = index_[h];
    if (at == 0) return npos;
    if (pairs_[at - 1] == p) {
      const std::size_t i = at - 1;
      return removed_[i / 64] >> (i % 64) & 1 ? npos : i;
    }
  }
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

bool association_store::table::contains(pair_id p) const noexcept {
  if (index_of(p) != npos) return true;
  return same_type_ && index_of(pair_id{p.to, p.from}) != npos;
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
  return n;
}

const association_store::entry* association_store::lookup(const std::string& a, const std::string& b) const noexcept {
  for (const auto& e : tables_)
    if (e.a == a && e.b == b) return &e;
  return nullptr;
}

void association_store::add(const object_type& from, const object_type& to, std::span<const pair_id> pairs) {
  bool swapped = to.key < from.key;
  const std::string& a = swapped ? to.key : from.key;
  const std::string& b = swapped ? from.key : to.key;
  auto* e = const_cast<entry*>(lookup(a, b));
  if (!e) {
    e = &tables_.emplace_back();
    e->a = a;
    e->b = b;
    e->t.same_type_ = a == b;
  }
  auto& v = e->t.pairs_;
  v.reserve(v.size() + pairs.size());
  for (auto p : pairs) v.push_back(swapped ? pair_id{p.to, p.from} : p);
}

void association_store::finalize() {
  for (auto& e : tables_) {
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

std::vector<pair_id> association_store::remaining_pairs(const object_type& from, const object_type& to) const {
  bool swapped = to.key < from.key;
  std::vector<pair_id> out;
  const auto* e = lookup(swapped ? to.key : from.key, swapped ? from.key : to.key);
  if (!e) return out;
  const auto& t = e->t;
  out.reserve(t.remaining_);
  for (std::size_t i = 0; i < t.pairs_.size(); ++i)
    if (!(t.removed_[i / 64] >> (i % 64) & 1)) out.push_back(swapped ? pair_id{t.pairs_[i].to, t.pairs_[i].from} : t.pairs_[i]);
  if (swapped) std::sort(out.begin(), out.end());
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
  store.finalize();
}

}  // namespace hubbatch::sandbox
