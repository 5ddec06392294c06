// Pacing by feedback, for endpoints the 10-second window does not count
// (HubSpot's specs mark every association batch endpoint exempt from it;
// docs/hubspot-api.md §4.1). Nothing announces such an endpoint's limit, so
// the rate is found the way TCP finds a link's: grow while answers stay fast
// and clean, halve on a sign of overload.
//
// Time is cut into epochs (500 ms, or two baseline latencies when longer).
// At the end of each, the epoch's median latency against the baseline (the
// lowest epoch median of the last two minutes: the server unloaded) decides:
//   fast   (up to 50 ms or a quarter of the baseline above it): grow, by a
//          quarter until the first halving, then by 5% (a quicker return
//          overshoots: the answers tell of a rate a second old);
//   warm   (up to 100 ms or half the baseline above): creep, 1%;
//   slow   (up to 150 ms or the baseline above): ease off, 3%;
//   clear rise (beyond): halve.
// Growth needs a clean epoch (no 5xx) whose answers used the rate (a rate
// the work did not use proves nothing). The rate also halves on a 429 (any
// policy but the window's and the daily, which the caller handles) and on a
// burst of 5xx (three in an epoch, or a fifth of its answers). After a
// halving, a second of hold (two epochs if longer): a server measures its
// load over a trailing second, so the next answers still show the old rate,
// and answers to requests sent before the halving are ignored. So the rate
// settles where answers just start to slow, short of the 429s. Requests in
// flight are capped at twice what the rate needs at the highest median
// latency of the last 8 epochs, plus two, up to the connections.
//
// Pure: the caller passes every answer and the time; no clock, no I/O.
#pragma once

#include "engine/clock.hpp"

#include <deque>
#include <string>
#include <vector>

namespace hubbatch::engine {

class adaptive_pacer {
 public:
  struct settings {
    double start = 19;      // requests per second at the switch (the window's rate)
    double ceiling = 100;   // --max-rate
    int max_in_flight = 8;  // --connections
  };
  enum class answer { clean, throttled, server_error, other };

  adaptive_pacer(settings s, time_point now);

  double rate() const noexcept { return rate_; }             // requests per second in force
  int in_flight_cap() const noexcept { return in_flight_; }  // requests in flight allowed
  int decreases() const noexcept { return decreases_; }
  // Why the rate last changed, for the log ("" when it grew or never changed).
  const std::string& last_reason() const noexcept { return reason_; }

  // One answer, `latency` after its request was sent, at `now` (non-
  // decreasing across calls). True when rate() or in_flight_cap() changed.
  bool on_answer(time_point now, duration latency, answer a);

 private:
  bool end_epoch(time_point now);
  void decrease(time_point now, std::string why);
  duration epoch() const noexcept;
  void update_in_flight();

  settings s_;
  double rate_;
  bool halved_ = false;  // halved at least once: fast answers grow the rate by 5%, not a quarter
  int decreases_ = 0;
  int in_flight_ = 2;
  std::string reason_;
  // The current epoch.
  time_point epoch_start_;
  time_point hold_until_{};  // no new decrease before this
  time_point decreased_at_{};
  int answers_ = 0;
  int server_errors_ = 0;
  std::vector<double> latencies_ms_;
  // Epoch medians of the last 240 epochs (the baseline is their minimum).
  std::deque<double> medians_ms_;
  double baseline_ms_ = 0;
  double recent_ms_ = 0;  // the highest median of the last 8 epochs
};

}  // namespace hubbatch::engine
