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
}

bool pair_grouper::add(pair_id p) {
  if (!waiting_.insert(p).second) return false;
  const auto [it, inserted] = index_.try_emplace(p.from, popped_ + groups_.size());
  if (inserted) {
    groups_.push_back(group{p.from, {p.to}, 0});
  } else {
    groups_[it->second - popped_].to.push_back(p.to);
  }
  ++pending_;
  return true;
}

bool pair_grouper::take_batch(std::vector<pair_id>& out) {
  out.clear();
  if (pending_ == 0) return false;
  const std::size_t cap = pair_cap(max_pairs_);
  std::size_t inputs = 0;
  while (!groups_.empty() && inputs < max_inputs_ && out.size() < cap) {
    group& g = groups_.front();
    const std::size_t avail = g.to.size() - g.head;
    const std::size_t n = take_count(avail, cap - out.size(), cap);
    if (n == 0) break;
    const auto first = g.to.begin() + static_cast<std::ptrdiff_t>(g.head);
    for (auto it = first; it != first + static_cast<std::ptrdiff_t>(n); ++it) {
      out.push_back(pair_id{g.from, *it});
      waiting_.erase(pair_id{g.from, *it});
    }
    pending_ -= n;
    ++inputs;
    if (n == avail) {
      index_.erase(g.from);
      groups_.pop_front();
      ++popped_;
    } else {
      g.head += n;
      // Drop the sent prefix once it is the larger half: amortised O(1) per
      // pair, and a from-id that keeps receiving pairs while it drains does
      // not grow its vector without bound.
      if (2 * g.head > g.to.size()) {
        g.to.erase(g.to.begin(), g.to.begin() + static_cast<std::ptrdiff_t>(g.head));
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
    const auto run_end = std::find_if(run_begin, batch.end(), [&](const pair_id& p) { return p.from != run_begin->from; });
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
