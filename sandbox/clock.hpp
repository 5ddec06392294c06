// The sandbox's time: both clocks read at one instant. The server reads the
// real clocks; tests pass any values (to the handler directly, or to a
// background_sandbox as a clock_source).
#pragma once

#include <cstdint>
#include <functional>

namespace hubbatch::sandbox {

// Both clocks at one instant (tests may pass any values).
struct clock_reading {
  std::int64_t mono_ns = 0;  // monotonic: rate windows, requests_per_second
  std::int64_t unix_ms = 0;  // wall clock: timestamps, the daily reset
  static clock_reading now() noexcept;
};

// Where a server reads the time of each request; empty = clock_reading::now.
using clock_source = std::function<clock_reading()>;

}  // namespace hubbatch::sandbox
