#include "sandbox/rate_window.hpp"

#include <algorithm>

namespace hubbatch::sandbox {

std::uint32_t rolling_window::count(std::int64_t now_ns) {
  const std::int64_t cutoff = now_ns - std::chrono::nanoseconds(rate_.window).count();
  while (!times_.empty() && times_.front() <= cutoff) times_.pop_front();
  return static_cast<std::uint32_t>(times_.size());
}

std::uint32_t rolling_window::count_within(std::int64_t now_ns, std::int64_t span_ns) {
  count(now_ns);
  auto it = std::upper_bound(times_.begin(), times_.end(), now_ns - span_ns);
  return static_cast<std::uint32_t>(times_.end() - it);
}

void rolling_window::record(std::int64_t now_ns) {
  times_.push_back(now_ns);
  max_in_window_ = std::max(max_in_window_, count(now_ns));
}

void daily_budget::roll(std::int64_t unix_ms) {
  const std::int64_t local = unix_ms + offset_ms_;
  const std::int64_t day = local >= 0 ? local / 86'400'000 : (local - 86'399'999) / 86'400'000;
  if (day != day_) {
    day_ = day;
    used_ = 0;
  }
}

}  // namespace hubbatch::sandbox
