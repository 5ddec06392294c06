#include "engine/rate_limiter.hpp"

#include <algorithm>
#include <cassert>
#include <climits>
#include <cmath>

namespace hubbatch::engine {

// ---------------------------------------------------------------- window_limiter

window_limiter::window_limiter(int max, duration window) : max_(max), window_(window) {}

void window_limiter::set_limit(int max, duration window) {
  max_ = max;
  window_ = window;
  // Completion times stay as they are: their expiry is recomputed against the
  // new window on the next query, so a longer window holds them longer.
}

void window_limiter::expire(time_point now) {
  while (!completed_.empty() && completed_.front() + window_ <= now) completed_.pop_front();
}

time_point window_limiter::ready_at(time_point now) {
  time_point earliest = std::max(now, pause_until_);
  if (spacing_ > duration::zero()) earliest = std::max(earliest, last_acquire_ + spacing_);
  if (max_ <= 0) return earliest;
  expire(now);
  const auto held = static_cast<std::size_t>(in_flight_) + completed_.size();
  const auto max = static_cast<std::size_t>(max_);
  if (held < max) return earliest;
  // occupied() must drop to max - 1: the (held - max + 1) oldest completions
  // have to expire. In-flight requests cannot expire, so when they alone fill
  // the limit only a complete() or cancel() can help.
  if (static_cast<std::size_t>(in_flight_) >= max) return time_point::max();
  const std::size_t k = held - max;  // index of the last completion that must expire
  return std::max(earliest, completed_[k] + window_);
}

void window_limiter::acquire(time_point now) {
  assert(ready_at(now) <= now);
  last_acquire_ = now;
  ++in_flight_;
}

void window_limiter::complete(time_point at) {
  assert(in_flight_ > 0);
  if (in_flight_ > 0) --in_flight_;
  // Unlimited: nothing to pace, and recording every completion would grow
  // without bound at loopback speed.
  if (max_ <= 0) return;
  // Completion times must stay ascending for expire(); a time earlier than the
  // last one (a caller bug) is moved forward, which only holds the slot longer.
  if (!completed_.empty() && at < completed_.back()) at = completed_.back();
  completed_.push_back(at);
  expire(at);
}

void window_limiter::cancel() {
  assert(in_flight_ > 0);
  if (in_flight_ > 0) --in_flight_;
}

void window_limiter::pause_until(time_point t) { pause_until_ = std::max(pause_until_, t); }

std::vector<time_point> window_limiter::recent(time_point now) {
  expire(now);
  return {completed_.begin(), completed_.end()};
}

void window_limiter::carry(std::span<const time_point> completed) {
  completed_.insert(completed_.begin(), completed.begin(), completed.end());
}

int window_limiter::occupied(time_point now) {
  expire(now);
  return in_flight_ + static_cast<int>(completed_.size());
}

// ---------------------------------------------------------------- rate_controller

namespace {

// Foreign samples are kept for two windows, not one. Our requests go out in
// bursts (a slot refills the moment it expires, so each window repeats the
// last one's pattern) and every sample is taken during a burst, when some of
// our requests are still in transit: counted in own_occupied but not yet by
// the server, the sample reads low by that many. The accurate samples come at
// a burst's end, about one window before the next burst starts; holding them
// for one window only lets them expire just as the next burst begins, the
// limit creeps up by one or two for a window, and the other client gets
// 429s. Two windows always span a full cycle (closed-loop test). Cost: a
// client that stops is forgotten after up to three windows instead of two.
constexpr int foreign_hold = 2;

// Header values are 64-bit; limits are ints. Anything above a billion per
// window is effectively unlimited and must not overflow later arithmetic.
int clamp_to_int(std::int64_t v) { return static_cast<int>(std::clamp<std::int64_t>(v, 0, 1'000'000'000)); }

}  // namespace

rate_controller::rate_controller(limit fallback, double share)
    // NaN or out-of-range shares are clamped; cli/ validates the flag, this
    // only keeps the arithmetic defined.
    : fallback_(fallback), share_(std::isnan(share) ? 1.0 : std::clamp(share, 0.0, 1.0)), current_{1, fallback.window} {}

rate_controller::limit rate_controller::compute() const noexcept {
  const int base = announced_max_ > 0 ? announced_max_ : fallback_.max;
  const duration window = announced_max_ > 0 ? announced_window_ : fallback_.window;
  const int available = std::max(0, base - foreign_);
  // The epsilon keeps e.g. 100 * 0.29 = 28.999999999999996 at 29.
  const auto shared = static_cast<int>(std::floor(available * share_ + 1e-9));
  return {std::max(1, shared), window};
}

bool rate_controller::on_response(std::int64_t max, std::int64_t remaining, std::int64_t interval_ms,
                                  int own_occupied, time_point now) {
  seen_response_ = true;
  if (max > 0) {
    announced_max_ = std::max(1, clamp_to_int(max));
    if (interval_ms > 0) {
      // At most a day: keeps the conversion to nanoseconds from overflowing.
      announced_window_ = std::chrono::milliseconds(std::min<std::int64_t>(interval_ms, 86'400'000));
    } else if (announced_window_ <= duration::zero()) {
      announced_window_ = fallback_.window;
    }
  }
  // A response without headers after some with them (HubSpot omits them
  // when it cannot gather the numbers) keeps the last announced limit.

  expire_foreign(now);
  if (announced_max_ > 0 && remaining >= 0) {
    // Off-by-one decision. The server computes Remaining after counting the
    // request this response answers (a fresh window answers Max - 1), and
    // own_occupied includes that same request (still in flight, or just
    // completed: occupied() counts both). So both sides count it once and
    //   foreign = Max - Remaining - own_occupied
    // is 0 when we are alone. Should a server report Remaining *before*
    // counting the request, the estimate comes out one low, i.e. -1 when
    // alone, which the clamp turns into 0: the error is at most one slot and
    // never invents a foreign client. (The opposite convention would report a
    // phantom foreign client of 1 forever against such a server, costing 1%.)
    // Our own count is an over-estimate of what the server counts of ours
    // (requests not yet arrived, slots held a round-trip past the server's
    // window), which biases the estimate low, never high, when alone.
    const std::int64_t estimate =
        static_cast<std::int64_t>(announced_max_) - std::min<std::int64_t>(remaining, announced_max_) - own_occupied;
    add_foreign_sample(static_cast<int>(std::clamp<std::int64_t>(estimate, 0, announced_max_)), now);
  }
  return update();
}

bool rate_controller::on_rate_limited(int own_occupied, time_point now) {
  seen_response_ = true;
  expire_foreign(now);
  const int max = announced_max_ > 0 ? announced_max_ : fallback_.max;
  // The server counted at least max + 1 in its window, of which at most
  // own_occupied were ours.
  const int proven = max + 1 - std::max(0, own_occupied);
  add_foreign_sample(std::clamp(std::max(proven, foreign_ + 1), 0, max), now);
  return update();
}

duration rate_controller::sample_window() const noexcept {
  return announced_max_ > 0 ? announced_window_ : fallback_.window;
}

// Samples older than one window are dropped (the decay).
void rate_controller::expire_foreign(time_point now) {
  const duration window = foreign_hold * sample_window();
  while (!foreign_samples_.empty() && foreign_samples_.front().at + window <= now) foreign_samples_.pop_front();
  foreign_ = foreign_samples_.empty() ? 0 : foreign_samples_.front().value;
}

// Sliding-window maximum: samples kept in strictly decreasing value order, so
// the front is the largest seen within the last window.
void rate_controller::add_foreign_sample(int sample, time_point now) {
  while (!foreign_samples_.empty() && foreign_samples_.back().value <= sample) foreign_samples_.pop_back();
  foreign_samples_.push_back({now, sample});
  foreign_ = foreign_samples_.front().value;
}

bool rate_controller::update() {
  const limit next = compute();
  const bool changed = !(next == current_);
  current_ = next;
  return changed;
}

}  // namespace hubbatch::engine
