#include "sandbox/store.hpp"

#include "io/pair_reader.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace hubbatch::sandbox {
namespace {

constexpr std::size_t npos = static_cast<std::size_t>(-1);

// Collects seed pairs; any rejected line fails the whole seed (a test or a
// benchmark must know exactly what the store holds).
struct seed_sink final : io::pair_sink {
  std::vector<pair_id>* out = nullptr;
  std::string path;
  void on_pair(pair_id p, std::uint64_t) override { out->push_back(p); }
  void on_reject(std::uint64_t line, io::reject_reason reason, std::string_view detail) override {
    throw std::runtime_error("seed file " + path + " line " + std::to_string(line) + ": rejected (reason " +
                             std::to_string(static_cast<int>(reason)) + ": " + std::string(detail) + ")");
  }
};

// STOPGAP until io/pair_reader.cpp lands on main: a minimal CSV reader with
// io::read_pairs_file's contract for the csv case (optional header, first two
// columns, ids of 1-20 digits). Delete it and call io::read_pairs_file after
// `git merge main`.
void read_seed_csv_stopgap(const std::string& path, io::pair_sink& sink) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open seed file " + path);
  std::string line;
  std::uint64_t line_no = 0;
  auto parse = [](std::string_view v, std::uint64_t& out) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '"')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '"' || v.back() == '\r')) v.remove_suffix(1);
    if (v.empty() || v.size() > 20) return false;
    std::uint64_t x = 0;
    for (char c : v) {
      if (c < '0' || c > '9') return false;
      auto d = static_cast<std::uint64_t>(c - '0');
      if (x > (UINT64_MAX - d) / 10) return false;
      x = x * 10 + d;
    }
    out = x;
    return true;
  };
  auto handle = [&] {
    ++line_no;
    std::string_view v(line);
    if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
    if (v.empty()) return;
    auto c1 = v.find(',');
    if (c1 == std::string_view::npos) {
      sink.on_reject(line_no, io::reject_reason::wrong_column_count, v.substr(0, 64));
      return;
    }
    auto c2 = v.find(',', c1 + 1);
    pair_id p;
    if (!parse(v.substr(0, c1), p.from) || !parse(v.substr(c1 + 1, c2 == std::string_view::npos ? v.npos : c2 - c1 - 1), p.to)) {
      if (line_no == 1) return;  // header
      sink.on_reject(line_no, io::reject_reason::bad_id, v.substr(0, 64));
      return;
    }
    sink.on_pair(p, line_no);
  };
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    for (std::size_t i = 0; i < n; ++i) {
      if (buf[i] == '\n') {
        handle();
        line.clear();
      } else {
        line.push_back(buf[i]);
      }
    }
  }
  bool err = std::ferror(f);
  std::fclose(f);
  if (err) throw std::runtime_error("cannot read seed file " + path);
  if (!line.empty()) handle();
}

}  // namespace

std::size_t association_store::table::index_of(pair_id p) const noexcept {
  auto it = std::lower_bound(pairs_.begin(), pairs_.end(), p);
  if (it == pairs_.end() || *it != p) return npos;
  auto i = static_cast<std::size_t>(it - pairs_.begin());
  if (removed_[i / 64] >> (i % 64) & 1) return npos;
  return i;
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
    v.shrink_to_fit();
    e.t.removed_.assign((v.size() + 63) / 64, 0);
    e.t.remaining_ = v.size();
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
      read_seed_csv_stopgap(s.file, sink);  // io::read_pairs_file(s.file, io::input_format::csv, sink) after merge
      store.add(*from, *to, buf);
    }
  }
  store.finalize();
}

}  // namespace hubbatch::sandbox
