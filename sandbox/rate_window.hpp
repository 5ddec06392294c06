// HubSpot-style rate accounting for the sandbox: a rolling window per token
// and a daily budget per account. Times are passed in (nanoseconds of a
// monotonic clock, milliseconds of Unix time) so tests drive them directly.
//
// Counting rule: only *accepted* requests count. HubSpot says that once over
// the limit every call gets 429 until the window moves on; if rejected calls
// counted too, a client hammering at 2x the limit would never get through,
// which is not what HubSpot's own retry advice (wait for the window) implies.
#pragma once

#include "sandbox/config.hpp"

#include <chrono>
#include <cstdint>
#include <deque>

namespace hubbatch::sandbox {

// Accepted-request times of one token inside the trailing window.
class rolling_window {
 public:
  explicit rolling_window(rate_spec r) : rate_(r) {}

  // Requests accepted in (now - window, now].
  std::uint32_t count(std::int64_t now_ns);
  // Requests accepted in (now - span, now], span <= window.
  std::uint32_t count_within(std::int64_t now_ns, std::int64_t span_ns);
  // Whether one more request fits (always true when the limit is off).
  bool has_room(std::int64_t now_ns) { return rate_.max == 0 || count(now_ns) < rate_.max; }
  // Records an accepted request at now (call after has_room()).
  void record(std::int64_t now_ns);
  // Largest count(now) seen right after a record(): the most requests
  // accepted in any window of this length.
  std::uint32_t max_in_window() const noexcept { return max_in_window_; }
  const rate_spec& rate() const noexcept { return rate_; }

 private:
  rate_spec rate_;
  std::deque<std::int64_t> times_;  // ascending; entries older than the window are dropped lazily
  std::uint32_t max_in_window_ = 0;
};

// The per-second capacity (config::capacity) answers more slowly as load
// nears it: with u = accepted in the trailing second (this request included)
// / capacity, no delay up to u = capacity_delay_knee, then
// at_capacity * ((u - knee) / (1 - knee))^2, at_capacity at u = 1 (HubSpot's
// curve is unknown; this one is flat at low load and steep near the limit).
// Rounded to the millisecond; none when capacity is 0 (off).
inline constexpr double capacity_delay_knee = 0.75;
std::chrono::milliseconds capacity_delay_for(std::uint32_t accepted, std::uint32_t capacity,
                                             std::chrono::milliseconds at_capacity);

// Requests per account per day; the day starts at midnight of the account's
// time zone (UTC + offset).
class daily_budget {
 public:
  daily_budget(std::uint64_t limit, int utc_offset_minutes) : limit_(limit), offset_ms_(utc_offset_minutes * 60'000LL) {}
  bool enabled() const noexcept { return limit_ != 0; }
  bool has_room(std::int64_t unix_ms) { roll(unix_ms); return limit_ == 0 || used_ < limit_; }
  void record(std::int64_t unix_ms) { roll(unix_ms); ++used_; }
  std::uint64_t limit() const noexcept { return limit_; }
  std::uint64_t remaining(std::int64_t unix_ms) { roll(unix_ms); return used_ >= limit_ ? 0 : limit_ - used_; }

 private:
  void roll(std::int64_t unix_ms);
  std::uint64_t limit_;
  std::int64_t offset_ms_;
  std::int64_t day_ = INT64_MIN;
  std::uint64_t used_ = 0;
};

}  // namespace hubbatch::sandbox
