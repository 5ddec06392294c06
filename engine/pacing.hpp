// The one owner of "which pace is in force" (docs/ARCHITECTURE.md): the
// mode, and the limit the window_limiter applies.
//
//   fixed     --rate N/Ws: N per W, nothing learned
//   unpaced   --rate 0
//   window    --rate auto / P%: X-HubSpot-RateLimit-* followed (rate_controller)
//   adaptive  --rate auto, once the headers show the window does not count
//             our requests: feedback pacing (adaptive_pacer), up to --max-rate
//
// Window → adaptive needs ten answers in a row that prove the window ignores
// us: Remaining not falling with our own requests (the window's use below
// half of what we had counted in it when the request left, with at least 8
// of ours there), or daily headers with no window headers at all. A 429
// TEN_SECONDLY_ROLLING in adaptive mode is proof of the opposite: back to the
// window for the rest of the run. A P% share, --no-adaptive and the fixed
// and unpaced modes never switch.
//
// Pure: the session passes each answer's facts and the time.
#pragma once

#include "engine/adaptive_pacer.hpp"
#include "engine/clock.hpp"
#include "engine/config.hpp"
#include "engine/rate_limiter.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hubbatch::engine {

enum class pace_mode { window, adaptive, fixed, unpaced };
std::string_view to_string(pace_mode m) noexcept;

// What one answer tells the pace.
struct pace_answer {
  std::int64_t max = -1;          // X-HubSpot-RateLimit-Max (-1 = absent)
  std::int64_t remaining = -1;    // X-HubSpot-RateLimit-Remaining
  std::int64_t interval_ms = -1;  // X-HubSpot-RateLimit-Interval-Milliseconds
  bool daily_headers = false;     // X-HubSpot-RateLimit-Daily(-Remaining) present
  int own_base = 0;               // our requests holding a slot when this one was sent
  int own_occupied = 0;           // own_base plus ours sent since, this one included
  int status = 0;
  std::string_view policy;  // a 429's policyName ("" = none)
  bool throttled = false;   // the dispatcher's word: a 429 that is not the daily limit
  duration latency{};       // from the request's send to its answer
};

// What the window_limiter applies: `max` slots per `window` (max 0 =
// unlimited), and at least `spacing` between two sends.
struct pace_limit {
  int max = 0;
  duration window{};
  duration spacing{};
  friend bool operator==(const pace_limit&, const pace_limit&) = default;
};

class pacing {
 public:
  explicit pacing(const archive_config& cfg);

  pace_mode mode() const noexcept { return mode_; }
  pace_limit limit() const noexcept;
  // Requests per second the pace allows now (0 = unpaced).
  double requests_per_second() const noexcept;

  // One answer at `now`. True when limit() changed (the caller applies it).
  bool on_answer(const pace_answer& a, time_point now);

  // Mode switches so far, and the last one's evidence (for the log).
  int switches() const noexcept { return switches_; }
  const std::string& last_switch_evidence() const noexcept { return evidence_; }
  // The adaptive pace (its rate, halvings and their causes) once there was one.
  const adaptive_pacer* adaptive() const noexcept { return pacer_ ? &*pacer_ : nullptr; }

 private:
  void to_adaptive(time_point now, std::string evidence);
  void to_window(std::string evidence);

  pace_mode mode_;
  int fixed_max_ = 0;
  duration fixed_window_{};
  bool may_adapt_ = false;
  double max_rate_;
  int connections_;
  std::optional<rate_controller> controller_;
  std::optional<adaptive_pacer> pacer_;
  int evidence_streak_ = 0;
  int switches_ = 0;
  std::string evidence_;
};

}  // namespace hubbatch::engine
