#include "engine/grouper.hpp"

#include <algorithm>
#include <limits>

namespace hubbatch::engine {

namespace {

constexpr std::size_t no_cap = std::numeric_limits<std::size_t>::max();

std::size_t pair_cap(std::size_t max_pairs) noexcept { return max_pairs == 0 ? no_cap : max_pairs; }

// How many of `avail` pairs of one from-id go into a batch that has `room`
// pairs left (room >= 1) under a cap of `cap` pairs: all when they fit; a
// group too big for even an empty batch must be split anyway, so it fills the
// room; otherwise 0 (the group waits whole for the next batch).
std::size_t take_count(std::size_t avail, std::size_t room, std::size_t cap) noexcept {
  if (avail <= room) return avail;
  if (avail > cap) return room;
  return 0;
}

}  // namespace

pair_grouper::pair_grouper(std::size_t window_pairs, std::size_t max_inputs, std::size_t max_pairs)
    : window_(std::max<std::size_t>(window_pairs, 1)),
      max_inputs_(std::max<std::size_t>(max_inputs, 1)),
      max_pairs_(max_pairs) {}

void pair_grouper::set_limits(std::size_t max_inputs, std::size_t max_pairs) {
  max_inputs_ = std::max<std::size_t>(max_inputs, 1);
  max_pairs_ = max_pairs;
  if (typed_) typed_->set_limits(max_inputs, max_pairs);
}

void pair_grouper::set_one_pair_per_input(bool yes) {
  pair_inputs_ = yes;
  if (typed_) typed_->set_one_pair_per_input(yes);
}


pair_grouper::id_list::id_list(id_list&& o) noexcept : heap_(o.heap_), size_(o.size_), cap_(o.cap_) {
  std::copy(std::begin(o.inline_), std::end(o.inline_), inline_);
  o.heap_ = nullptr;
  o.size_ = 0;
  o.cap_ = inline_capacity;
}

pair_grouper::id_list& pair_grouper::id_list::operator=(id_list&& o) noexcept {
  if (this != &o) {
    delete[] heap_;
    heap_ = o.heap_;
    size_ = o.size_;
    cap_ = o.cap_;
    std::copy(std::begin(o.inline_), std::end(o.inline_), inline_);
    o.heap_ = nullptr;
    o.size_ = 0;
    o.cap_ = inline_capacity;
  }
  return *this;
}

pair_grouper::id_list::~id_list() { delete[] heap_; }

void pair_grouper::id_list::push_back(std::uint64_t v) {
  if (size_ == cap_) {
    std::uint32_t cap = cap_ * 2;
    auto* grown = new std::uint64_t[cap];
    std::copy(data(), data() + size_, grown);
    delete[] heap_;
    heap_ = grown;
    cap_ = cap;
  }
  data()[size_++] = v;
}

void pair_grouper::id_list::erase_prefix(std::size_t n) noexcept {
  std::copy(data() + n, data() + size_, data());
  size_ -= static_cast<std::uint32_t>(n);
}

void pair_grouper::id_list::clear() noexcept {
  delete[] heap_;
  heap_ = nullptr;
  size_ = 0;
  cap_ = inline_capacity;
}

pair_grouper::group& pair_grouper::group_ring::emplace_back() {
  if (size_ == slots_.size()) {
    std::vector<group> grown(std::max<std::size_t>(64, 2 * slots_.size()));
    for (std::size_t i = 0; i < size_; ++i) grown[i] = std::move((*this)[i]);
    slots_ = std::move(grown);
    head_ = 0;
  }
  ++size_;
  return back();
}

void pair_grouper::group_ring::pop_front() noexcept {
  group& g = front();
  g.to.clear();
  g.lines.clear();
  g.big.reset();
  g.head = 0;
  head_ = (head_ + 1) & (slots_.size() - 1);
  --size_;
}

void pair_grouper::rebuild_index(std::size_t live_after_insert) {
  std::size_t cap = 64;
  while (cap < 4 * live_after_insert) cap *= 2;
  table_.assign(cap, slot{});
  table_filled_ = 0;
  const std::size_t mask = cap - 1;
  for (std::size_t k = 0; k < groups_.size(); ++k) {
    group& g = groups_[k];
    std::size_t i = mix_id(g.from) & mask;
    while (table_[i].group != 0) i = (i + 1) & mask;
    table_[i] = slot{g.from, popped_ + k + 1};
    g.slot = static_cast<std::uint32_t>(i);
    ++table_filled_;
  }
  unindexed_ = 0;
}

bool pair_grouper::waiting(const group& g, std::uint64_t to) const {
  if (g.big) return g.big->count(to) != 0;
  return std::find(g.to.begin() + g.head, g.to.end(), to) != g.to.end();
}

pair_grouper& pair_grouper::typed() {
  if (!typed_) {
    typed_ = std::make_unique<pair_grouper>(window_, max_inputs_, max_pairs_);
    typed_->holds_typed_ = true;
    typed_->pair_inputs_ = pair_inputs_;
  }
  return *typed_;
}

namespace {
bool any_typed(const pair_id* pairs, std::size_t n) noexcept {
  for (std::size_t k = 0; k < n; ++k)
    if (!pairs[k].type.empty()) return true;
  return false;
}
}  // namespace

void pair_grouper::add_each(const pair_id* pairs, const std::uint64_t* lines, std::size_t n, bool* accepted) {
  for (std::size_t k = 0; k < n; ++k) accepted[k] = add(pairs[k], lines ? lines[k] : 0);
}

bool pair_grouper::add(pair_id p, std::uint64_t line) {
  if (!holds_typed_ && !p.type.empty()) return typed().add(p, line);
  if (unindexed_ > 0 || 2 * (table_filled_ + 1) > table_.size()) rebuild_index(groups_.size() + 1);
  return add_at(p, line, mix_id(p.from) & (table_.size() - 1));
}

void pair_grouper::add_many(const pair_id* pairs, const std::uint64_t* lines, std::size_t n, bool* accepted) {
  if (holds_typed_) return add_block(pairs, lines, n, accepted);
  // Each run of one kind to its grouper: typed pairs to typed_, the others here.
  for (std::size_t k = 0; k < n;) {
    const bool typed_run = !pairs[k].type.empty();
    std::size_t end = k + 1;
    while (end < n && pairs[end].type.empty() != typed_run) ++end;
    (typed_run ? typed() : *this).add_block(pairs + k, lines ? lines + k : nullptr, end - k, accepted + k);
    k = end;
  }
}

void pair_grouper::add_block(const pair_id* pairs, const std::uint64_t* lines, std::size_t n, bool* accepted) {
  constexpr std::size_t block = 16;
  std::size_t home[block];
  for (std::size_t base = 0; base < n; base += block) {
    const std::size_t m = std::min(block, n - base);
    // Room for the whole block first, so no rebuild moves slots under the prefetches.
    if (unindexed_ > 0 || 2 * (table_filled_ + m) > table_.size()) rebuild_index(groups_.size() + m);
    const std::size_t mask = table_.size() - 1;
    for (std::size_t k = 0; k < m; ++k) {
      home[k] = mix_id(pairs[base + k].from) & mask;
      __builtin_prefetch(&table_[home[k]]);
    }
    // Second stage: where the home slot already holds the from-id, fetch its group too.
    for (std::size_t k = 0; k < m; ++k) {
      const slot& sl = table_[home[k]];
      if (sl.group != 0 && sl.group != tombstone && sl.from == pairs[base + k].from)
        __builtin_prefetch(&groups_[sl.group - 1 - popped_]);
    }
    for (std::size_t k = 0; k < m; ++k)
      accepted[base + k] = add_at(pairs[base + k], lines ? lines[base + k] : 0, home[k]);
  }
}

bool pair_grouper::add_at(pair_id p, std::uint64_t line, std::size_t i) {
  const std::size_t mask = table_.size() - 1;
  std::size_t free_slot = table_.size();  // first tombstone on the probe path
  for (; table_[i].group != 0; i = (i + 1) & mask) {
    if (table_[i].group == tombstone) {
      if (free_slot == table_.size()) free_slot = i;
    } else if (table_[i].from == p.from) {
      group& g = groups_[table_[i].group - 1 - popped_];
      if (g.type == p.type) return join(g, p.to, line);
    }
  }
  if (free_slot == table_.size()) {
    free_slot = i;
    ++table_filled_;  // a tombstone reused does not fill more of the table
  }
  table_[free_slot] = slot{p.from, popped_ + groups_.size() + 1};
  start_group(p, line, static_cast<std::uint32_t>(free_slot));
  return true;
}

void pair_grouper::begin_runs() {
  if (unindexed_ > 0) rebuild_index(groups_.size());
  if (typed_) typed_->begin_runs();
}

void pair_grouper::add_runs(const pair_id* pairs, const std::uint64_t* lines, std::size_t n, bool* accepted) {
  if (!holds_typed_ && any_typed(pairs, n)) return add_each(pairs, lines, n, accepted);
  for (std::size_t k = 0; k < n; ++k) {
    const pair_id p = pairs[k];
    const std::uint64_t line = lines ? lines[k] : 0;
    group* g = !groups_.empty() && groups_.back().from == p.from && groups_.back().type == p.type ? &groups_.back()
                                                                                                : nullptr;
    if (!g && groups_.size() > unindexed_) g = find(p);  // groups of add()/add_many() wait
    if (g) {
      accepted[k] = join(*g, p.to, line);
    } else {
      start_group(p, line, unindexed);
      ++unindexed_;
      accepted[k] = true;
    }
  }
}

pair_grouper::group* pair_grouper::find(pair_id p) {
  if (table_.empty()) return nullptr;
  const std::size_t mask = table_.size() - 1;
  for (std::size_t i = mix_id(p.from) & mask; table_[i].group != 0; i = (i + 1) & mask) {
    if (table_[i].group == tombstone || table_[i].from != p.from) continue;
    group& g = groups_[table_[i].group - 1 - popped_];
    if (g.type == p.type) return &g;
  }
  return nullptr;
}

bool pair_grouper::join(group& g, std::uint64_t to, std::uint64_t line) {
  if (waiting(g, to)) return false;
  g.to.push_back(to);
  g.lines.push_back(line);
  if (g.big) {
    g.big->insert(to);
  } else if (g.to.size() - g.head > small_group) {
    g.big = std::make_unique<std::unordered_set<std::uint64_t>>(g.to.begin() + g.head, g.to.end());
  }
  ++pending_;
  return true;
}

void pair_grouper::start_group(pair_id p, std::uint64_t line, std::uint32_t slot) {
  group& g = groups_.emplace_back();
  g.from = p.from;
  g.type = p.type;
  g.to.push_back(p.to);
  g.lines.push_back(line);
  g.slot = slot;
  ++pending_;
}

bool pair_grouper::take_batch(std::vector<pair_id>& out) { return take(out, nullptr); }

bool pair_grouper::take_batch(std::vector<pair_id>& out, std::vector<std::uint64_t>& lines) {
  return take(out, &lines);
}

bool pair_grouper::take(std::vector<pair_id>& out, std::vector<std::uint64_t>* lines) {
  if (typed_pending() > pending_) return typed_->take(out, lines);
  out.clear();
  if (lines) lines->clear();
  if (pending_ == 0) return false;
  const std::size_t cap = pair_cap(max_pairs_);
  // Room for a typical batch at once (growing from empty was ~20 allocations
  // a batch); a batch of bigger groups grows as usual.
  const std::size_t expect = std::min({pending_, cap, 8 * max_inputs_});
  out.reserve(expect);
  if (lines) lines->reserve(expect);
  std::size_t inputs = 0;
  while (!groups_.empty() && inputs < max_inputs_ && out.size() < cap) {
    group& g = groups_.front();
    const std::size_t avail = g.to.size() - g.head;
    const std::size_t n = pair_inputs_ ? std::min({avail, cap - out.size(), max_inputs_ - inputs})
                                       : take_count(avail, cap - out.size(), cap);
    if (n == 0) break;
    const auto* first = g.to.begin() + g.head;
    for (const auto* it = first; it != first + n; ++it) {
      out.push_back(pair_id{g.from, *it, g.type});
      if (g.big) g.big->erase(*it);
    }
    if (lines) lines->insert(lines->end(), g.lines.begin() + g.head, g.lines.begin() + g.head + n);
    pending_ -= n;
    inputs += pair_inputs_ ? n : 1;
    if (n == avail) {
      if (g.slot == unindexed) {
        --unindexed_;
      } else {
        table_[g.slot].group = tombstone;
      }
      groups_.pop_front();
      ++popped_;
    } else {
      g.head += n;
      // Drop the sent prefix once it is the larger half: amortised O(1) per
      // pair, and a from-id that keeps receiving pairs while it drains does
      // not grow its vector without bound.
      if (2 * g.head > g.to.size()) {
        g.to.erase_prefix(g.head);
        g.lines.erase_prefix(g.head);
        g.head = 0;
      }
    }
  }
  return true;
}

std::vector<std::vector<pair_id>> split_batch(const std::vector<pair_id>& batch, std::size_t max_inputs,
                                              std::size_t max_pairs) {
  max_inputs = std::max<std::size_t>(max_inputs, 1);
  const std::size_t cap = pair_cap(max_pairs);
  std::vector<std::vector<pair_id>> result;
  std::vector<pair_id> current;
  std::size_t inputs = 0;
  auto flush = [&] {
    if (!current.empty()) result.push_back(std::move(current));
    current.clear();
    inputs = 0;
  };
  auto run_begin = batch.begin();
  while (run_begin != batch.end()) {
    const auto run_end = std::find_if(run_begin, batch.end(), [&](const pair_id& p) {
      return p.from != run_begin->from || p.type != run_begin->type;
    });
    auto pos = run_begin;
    while (pos != run_end) {
      if (inputs == max_inputs || current.size() == cap) flush();
      const auto avail = static_cast<std::size_t>(run_end - pos);
      const std::size_t n = take_count(avail, cap - current.size(), cap);
      if (n == 0) {
        flush();
        continue;
      }
      current.insert(current.end(), pos, pos + static_cast<std::ptrdiff_t>(n));
      pos += static_cast<std::ptrdiff_t>(n);
      ++inputs;
    }
    run_begin = run_end;
  }
  flush();
  return result;
}

}  // namespace hubbatch::engine
