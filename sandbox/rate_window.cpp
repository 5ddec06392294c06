#include "sandbox/rate_window.hpp"

#include <algorithm>
#include <cmath>

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

std::chrono::milliseconds capacity_delay_for(std::uint32_t accepted, std::uint32_t capacity,
                                             std::chrono::milliseconds at_capacity) {
  if (capacity == 0) return {};
  const double u = std::min(1.0, static_cast<double>(accepted) / capacity);
  if (u <= capacity_delay_knee) return {};
  const double x = (u - capacity_delay_knee) / (1 - capacity_delay_knee);
  return std::chrono::milliseconds(std::llround(static_cast<double>(at_capacity.count()) * x * x));
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
