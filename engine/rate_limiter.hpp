// Client-side pacing that keeps requests within "max per window" exactly as
// the server counts them, whatever the network latency.
//
// A request occupies a slot from the moment it is sent until `window` after
// its response arrived. The response time is an upper bound of when the
// server counted the request, so the (max+1)-th request can never land in the
// same server window as the first: no 429 from our own traffic, and at most
// one round-trip per window lost (about 1% on the real API, nothing on
// loopback). Shared by all connections of a worker; single-threaded.
#pragma once

#include "engine/clock.hpp"

#include <cstdint>
#include <deque>
#include <span>
#include <vector>

namespace hubbatch::engine {

class window_limiter {
 public:
  // max <= 0 means unlimited (acquire never waits except for pauses, and
  // completions are not recorded, so occupied() is just in_flight()).
  window_limiter(int max, duration window);

  // Changes the limit (e.g. adopted from X-HubSpot-RateLimit-* headers). Slots
  // already occupied keep counting against the new limit.
  void set_limit(int max, duration window);
  int max() const noexcept { return max_; }
  duration window() const noexcept { return window_; }
  // At least `s` between two acquisitions (the adaptive pace, which spreads
  // its requests evenly rather than letting a window's worth out at once);
  // zero = none.
  void set_spacing(duration s) noexcept { spacing_ = s; }

  // Every `now` and `at` passed to this class must be non-decreasing across
  // calls (a steady clock): expiry is destructive.

  // Earliest time at which acquire() may be called: `now` when a slot is free
  // and no pause is active; the time the oldest completed slot expires when
  // all are taken; time_point::max() when every slot is held by a request
  // still in flight (wait for a complete() or cancel()).
  time_point ready_at(time_point now);

  // Takes a slot for a request sent at `now`. Precondition: ready_at(now) <= now.
  void acquire(time_point now);
  // The response to one in-flight request arrived at `at` (monotonic across
  // calls): that slot frees at `at + window`. Call it for every outcome in
  // which the request may have reached the server: any response (2xx, 4xx,
  // 429, 5xx, unparsable body), and also transport failures after at least
  // one byte was written (reset, read timeout, truncated response), with
  // `at` = when the failure was detected, an upper bound of the arrival.
  void complete(time_point at);
  // One in-flight request provably never reached the server (connect,
  // handshake or write failed before any byte of the request was written):
  // its slot frees now. When unsure, call complete(now) instead: cancelling
  // a request the server did count can cause a 429.
  void cancel();

  // No acquisitions before `t` (a 429 pause, Retry-After). Later calls with
  // an earlier `t` do not shorten an active pause.
  void pause_until(time_point t);
  time_point paused_until() const noexcept { return pause_until_; }

  // Slots counted at `now`: requests in flight plus completions within the window.
  int occupied(time_point now);
  int in_flight() const noexcept { return in_flight_; }

  // The completion times of the requests still counted at `now`, for the
  // next job of the same token (archive's passes run one after another):
  // see carry().
  std::vector<time_point> recent(time_point now);
  // Requests an earlier job of the same token completed at these times
  // (ascending, none later than this limiter's first): they hold their
  // slots as if this limiter had sent them, so the next job does not start
  // with a full window the server has partly used.
  void carry(std::span<const time_point> completed);

 private:
  void expire(time_point now);

  int max_;
  duration window_;
  int in_flight_ = 0;
  std::deque<time_point> completed_;  // completion times, ascending
  time_point pause_until_{};
  duration spacing_{};
  time_point last_acquire_{};
};

// Decides the limit for `--rate auto` from the headers responses carry.
//
// Starts conservatively (limit 1 per fallback window, i.e. one probe request)
// until the first response; then adopts X-HubSpot-RateLimit-Max per
// -Interval-Milliseconds. When -Remaining shows fewer free slots than our own
// usage explains, other clients share the budget: the estimate of their use
// (the largest seen over the last two windows, see rate_limiter.cpp) is
// subtracted from the limit. When
// responses carry no rate headers the fallback (100 per 10 s) applies.
class rate_controller {
 public:
  struct limit {
    int max;
    duration window;
    friend bool operator==(const limit&, const limit&) = default;
  };

  // fallback: used when no headers come; share: fraction (0,1] of the
  // announced limit to use (--rate 50%).
  explicit rate_controller(limit fallback = {100, std::chrono::seconds(10)}, double share = 1.0);

  // The limit to apply now.
  limit current() const noexcept { return current_; }
  // True before any response has been seen (the probe phase).
  bool probing() const noexcept { return !seen_response_; }

  // A response arrived at `now`. `max`, `remaining`, `interval_ms` are the
  // announced headers (negative when absent); `own_occupied` is our limiter's
  // occupied(now) just before (or just after: same value) this response's
  // complete(). Returns true when current() changed; the caller then applies
  // it with window_limiter::set_limit. Call it for every response, 429s
  // included (headers come on error responses too). A response without rate
  // headers keeps the last announced limit; only when none was ever seen does
  // the fallback apply. The fallback is scaled by `share` too. The foreign
  // estimate is the largest sample of the last two windows, so a client that
  // stops is forgotten two windows after its requests leave the server's
  // window (at most three windows after it stopped).
  bool on_response(std::int64_t max, std::int64_t remaining, std::int64_t interval_ms, int own_occupied,
                   time_point now);

  // The response was a 429 for the rolling window (TEN_SECONDLY_ROLLING, or
  // no policyName): call it after on_response() for that response, same
  // `own_occupied` and `now`. Returns true when current() changed.
  //
  // Why it exists: the server clamps Remaining at 0, so once we and others
  // together exceed the limit, Max - Remaining - own_occupied reads exactly
  // our own headroom and any too-high limit is a fixed point. A 429 proves
  // others use at least Max + 1 - own_occupied; the estimate also grows by
  // at least one per 429, so repeated 429s always lower the limit.
  bool on_rate_limited(int own_occupied, time_point now);

  // The limit the headers announced, before others' use and the share are
  // taken off (the fallback before any header came).
  limit announced() const noexcept {
    return announced_max_ > 0 ? limit{announced_max_, announced_window_} : fallback_;
  }

  // Estimated use of the window by other clients (0 when alone).
  int foreign_estimate() const noexcept { return foreign_; }

 private:
  struct foreign_sample {
    time_point at;
    int value;
  };
  limit compute() const noexcept;
  duration sample_window() const noexcept;
  void expire_foreign(time_point now);
  void add_foreign_sample(int sample, time_point now);
  bool update();

  limit fallback_;
  double share_;  // clamped to [0, 1]; the limit never drops below 1 anyway
  limit current_;
  bool seen_response_ = false;
  int announced_max_ = -1;          // last X-HubSpot-RateLimit-Max seen; -1 = none yet
  duration announced_window_{};     // last -Interval-Milliseconds seen (fallback window if none)
  int foreign_ = 0;                 // max of foreign_samples_
  // Foreign-use estimates of the last window, values strictly decreasing
  // (a sliding-window maximum): front() is the largest seen within the window.
  std::deque<foreign_sample> foreign_samples_;
};

}  // namespace hubbatch::engine
