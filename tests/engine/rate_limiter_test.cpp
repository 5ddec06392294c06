#include "engine/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <queue>
#include <random>
#include <vector>

using namespace hubbatch::engine;
using namespace std::chrono_literals;

namespace {

// A fake clock is just time_point values: nothing here reads a real clock.
const time_point t0 = time_point{} + 1h;

// Largest number of times falling in any half-open window [x, x + w).
std::size_t max_in_window(std::vector<time_point> times, duration w) {
  std::sort(times.begin(), times.end());
  std::size_t best = 0;
  for (std::size_t i = 0, j = 0; j < times.size(); ++j) {
    while (times[j] - times[i] >= w) ++i;
    best = std::max(best, j - i + 1);
  }
  return best;
}

std::vector<time_point> at_or_after(const std::vector<time_point>& v, time_point from, time_point until = time_point::max()) {
  std::vector<time_point> out;
  for (auto t : v) {
    if (t >= from && t < until) out.push_back(t);
  }
  return out;
}

// Several connections driving one limiter on a simulated clock. Each request
// travels `up` to the server (arrival: when the server counts it) and `down`
// back; some never reach the server (cancel), some are lost after the server
// counted them (complete at detection time, like a reset or read timeout).
struct limiter_sim {
  int connections = 8;
  duration up_min = 1ms, up_max = 150ms, down_min = 1ms, down_max = 150ms;
  double cancel_p = 0;       // failed before any byte was written
  double lost_p = 0;         // reached the server, no response (reset/timeout)
  std::uint64_t seed = 1;
  // Actions run once when the clock reaches `at` (limit changes, pauses).
  std::vector<std::pair<time_point, std::function<void(window_limiter&)>>> actions;

  std::vector<time_point> sends, arrivals;

  void run(window_limiter& lim, int requests) {
    struct event {
      time_point at;
      bool cancelled;
      bool operator>(const event& o) const { return at > o.at; }
    };
    std::priority_queue<event, std::vector<event>, std::greater<>> events;
    std::mt19937_64 rng(seed);
    auto between = [&](duration lo, duration hi) {
      return duration(std::uniform_int_distribution<duration::rep>(lo.count(), hi.count())(rng));
    };
    std::uniform_real_distribution<double> unit(0, 1);
    std::sort(actions.begin(), actions.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::size_t next_action = 0;
    int idle = connections, sent = 0;
    time_point now = t0;
    for (;;) {
      while (next_action < actions.size() && actions[next_action].first <= now) actions[next_action++].second(lim);
      while (idle > 0 && sent < requests && lim.ready_at(now) <= now) {
        lim.acquire(now);
        --idle;
        ++sent;
        sends.push_back(now);
        const double u = unit(rng);
        if (u < cancel_p) {
          events.push({now + between(up_min, up_max), true});
        } else {
          const time_point arrival = now + between(up_min, up_max);
          arrivals.push_back(arrival);
          // A lost request is detected (reset, timeout) some time after arrival.
          const duration back = u < cancel_p + lost_p ? between(down_max, 3 * down_max) : between(down_min, down_max);
          events.push({arrival + back, false});
        }
      }
      if (sent == requests && events.empty()) return;
      time_point next = events.empty() ? time_point::max() : events.top().at;
      if (idle > 0 && sent < requests) next = std::min(next, lim.ready_at(now));
      if (next_action < actions.size()) next = std::min(next, actions[next_action].first);
      ASSERT_NE(next, time_point::max()) << "deadlock: idle connections and nothing to wait for";
      ASSERT_GE(next, now);
      now = next;
      while (!events.empty() && events.top().at <= now) {
        const event e = events.top();
        events.pop();
        if (e.cancelled) {
          lim.cancel();
        } else {
          lim.complete(e.at);
        }
        ++idle;
      }
    }
  }
};

}  // namespace

TEST(window_limiter, unlimited_never_waits_but_honours_pauses) {
  window_limiter lim(0, 10s);
  for (int i = 0; i < 1000; ++i) lim.acquire(t0);
  EXPECT_EQ(lim.ready_at(t0), t0);
  lim.complete(t0 + 1s);
  EXPECT_EQ(lim.in_flight(), 999);
  EXPECT_EQ(lim.occupied(t0 + 1s), 999);  // completions are not recorded when unlimited
  lim.pause_until(t0 + 5s);
  EXPECT_EQ(lim.ready_at(t0 + 1s), t0 + 5s);
  EXPECT_EQ(lim.ready_at(t0 + 6s), t0 + 6s);
}

TEST(window_limiter, slot_is_held_from_send_until_window_after_response) {
  window_limiter lim(3, 10s);
  EXPECT_EQ(lim.ready_at(t0), t0);
  lim.acquire(t0);
  lim.acquire(t0);
  lim.acquire(t0);
  EXPECT_EQ(lim.occupied(t0), 3);
  // All three in flight: only a response or a cancel can free a slot.
  EXPECT_EQ(lim.ready_at(t0), time_point::max());
  EXPECT_EQ(lim.ready_at(t0 + 1h), time_point::max());
  lim.complete(t0 + 1s);
  lim.complete(t0 + 2s);
  EXPECT_EQ(lim.in_flight(), 1);
  EXPECT_EQ(lim.ready_at(t0 + 2s), t0 + 11s);  // the oldest completion expires first
  EXPECT_EQ(lim.ready_at(t0 + 11s - 1ns), t0 + 11s);
  EXPECT_EQ(lim.occupied(t0 + 11s - 1ns), 3);
  EXPECT_EQ(lim.occupied(t0 + 11s), 2);  // frees exactly at response + window
  EXPECT_EQ(lim.ready_at(t0 + 11s), t0 + 11s);
  lim.acquire(t0 + 11s);
  EXPECT_EQ(lim.ready_at(t0 + 11s), t0 + 12s);
  lim.cancel();  // never reached the server: frees at once
  EXPECT_EQ(lim.occupied(t0 + 11s), 2);
  EXPECT_EQ(lim.ready_at(t0 + 11s), t0 + 11s);
  EXPECT_EQ(lim.occupied(t0 + 12s), 1);
}

TEST(window_limiter, issue_14_a_job_carries_the_slots_an_earlier_job_of_the_token_still_holds) {
  // archive --backup: the backup's reads still count in the server's window
  // when the archive starts; its limiter must not start with a full window.
  window_limiter backup(3, 10s);
  backup.acquire(t0);
  backup.acquire(t0);
  backup.complete(t0 + 1s);
  backup.complete(t0 + 2s);
  const auto carried = backup.recent(t0 + 5s);
  EXPECT_EQ(carried, (std::vector<time_point>{t0 + 1s, t0 + 2s}));
  EXPECT_EQ(backup.recent(t0 + 11s), (std::vector<time_point>{t0 + 2s})) << "expired ones are not handed on";

  window_limiter archive(3, 10s);
  archive.carry(carried);
  EXPECT_EQ(archive.occupied(t0 + 5s), 2);
  EXPECT_EQ(archive.ready_at(t0 + 5s), t0 + 5s);
  archive.acquire(t0 + 5s);
  EXPECT_EQ(archive.ready_at(t0 + 5s), t0 + 11s) << "the window is full until the backup's first read expires";
  EXPECT_EQ(archive.occupied(t0 + 12s), 1);
}

TEST(window_limiter, completion_times_out_of_order_hold_the_slot_longer) {
  window_limiter lim(2, 10s);
  lim.acquire(t0);
  lim.acquire(t0);
  lim.complete(t0 + 5s);
  lim.complete(t0 + 3s);  // caller bug: treated as t0 + 5s
  EXPECT_EQ(lim.occupied(t0 + 14s), 2);
  EXPECT_EQ(lim.occupied(t0 + 15s), 0);
}

TEST(window_limiter, pause_delays_and_is_never_shortened) {
  window_limiter lim(2, 10s);
  lim.pause_until(t0 + 5s);
  lim.pause_until(t0 + 2s);
  EXPECT_EQ(lim.paused_until(), t0 + 5s);
  EXPECT_EQ(lim.ready_at(t0), t0 + 5s);
  EXPECT_EQ(lim.ready_at(t0 + 5s), t0 + 5s);
  lim.acquire(t0 + 5s);
  lim.acquire(t0 + 5s);
  lim.complete(t0 + 6s);
  lim.pause_until(t0 + 20s);
  EXPECT_EQ(lim.ready_at(t0 + 7s), t0 + 20s);  // pause later than the slot's expiry at 16 s
  lim.pause_until(t0 + 21s);
  EXPECT_EQ(lim.ready_at(t0 + 7s), t0 + 21s);
}

TEST(window_limiter, set_limit_down_waits_for_enough_expiries_and_up_frees_at_once) {
  window_limiter lim(5, 10s);
  for (int i = 0; i < 5; ++i) lim.acquire(t0);
  for (int i = 1; i <= 5; ++i) lim.complete(t0 + std::chrono::seconds(i));
  lim.set_limit(2, 10s);
  EXPECT_EQ(lim.max(), 2);
  // 5 held, limit 2: four must expire, the 4th completion (t0+4s) at t0+14s.
  EXPECT_EQ(lim.ready_at(t0 + 6s), t0 + 14s);
  lim.set_limit(2, 20s);  // a longer window holds the same completions longer
  EXPECT_EQ(lim.window(), 20s);
  EXPECT_EQ(lim.ready_at(t0 + 6s), t0 + 24s);
  lim.set_limit(6, 20s);
  EXPECT_EQ(lim.ready_at(t0 + 6s), t0 + 6s);
  EXPECT_EQ(lim.occupied(t0 + 6s), 5);
}

// The core guarantee: whatever the latency, the server never sees more than
// `max` requests in any window of length `window`.
TEST(window_limiter, simulation_never_exceeds_limit_at_the_server) {
  struct scenario {
    int max, connections;
    duration window;
    double cancel_p, lost_p;
  };
  const scenario scenarios[] = {
      {10, 3, 1s, 0, 0},         // fewer connections than slots
      {10, 16, 1s, 0.05, 0.05},  // more connections than slots: in-flight requests fill the limit
      {100, 8, 10s, 0.02, 0.02},
      {1, 4, 500ms, 0, 0.1},
  };
  for (const auto& s : scenarios) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      SCOPED_TRACE(testing::Message() << "max " << s.max << " connections " << s.connections << " seed " << seed);
      window_limiter lim(s.max, s.window);
      limiter_sim sim;
      sim.connections = s.connections;
      sim.cancel_p = s.cancel_p;
      sim.lost_p = s.lost_p;
      sim.seed = seed;
      sim.run(lim, s.max * 40);
      ASSERT_EQ(sim.sends.size(), static_cast<std::size_t>(s.max * 40));
      EXPECT_GT(sim.arrivals.size(), sim.sends.size() * 8 / 10);
      // Exactly at the limit (the limiter does fill windows), never above.
      EXPECT_EQ(max_in_window(sim.arrivals, s.window), static_cast<std::size_t>(s.max));
      EXPECT_EQ(lim.in_flight(), 0);
    }
  }
}

TEST(window_limiter, simulation_uses_at_least_97_percent_when_latency_is_small) {
  const int max = 100;
  const duration window = 10s;
  window_limiter lim(max, window);
  limiter_sim sim;
  sim.up_min = sim.down_min = 500us;
  sim.up_max = sim.down_max = 2500us;  // round trip at most 5 ms
  sim.run(lim, max * 200);
  EXPECT_EQ(max_in_window(sim.arrivals, window), static_cast<std::size_t>(max));
  // Over 150 windows from the first arrival the server must see >= 97% of
  // max per window.
  const auto counted = at_or_after(sim.arrivals, sim.arrivals.front(), sim.arrivals.front() + 150 * window).size();
  EXPECT_GE(counted, static_cast<std::size_t>(0.97 * 150 * max)) << counted;
  EXPECT_LE(counted, static_cast<std::size_t>(150 * max));
}

TEST(window_limiter, simulation_with_limit_changes_and_pause_mid_run) {
  window_limiter lim(50, 5s);
  limiter_sim sim;
  sim.connections = 12;
  sim.cancel_p = 0.03;
  sim.lost_p = 0.03;
  const time_point down_at = t0 + 60s, up_at = t0 + 120s, pause_at = t0 + 150s, pause_end = t0 + 157s;
  sim.actions.emplace_back(down_at, [](window_limiter& l) { l.set_limit(20, 5s); });
  sim.actions.emplace_back(up_at, [](window_limiter& l) { l.set_limit(80, 5s); });
  sim.actions.emplace_back(pause_at, [&](window_limiter& l) { l.pause_until(pause_end); });
  sim.run(lim, 3000);
  ASSERT_GT(sim.sends.back(), pause_end + 10s) << "run too short to cover every phase";
  const duration max_up = sim.up_max;
  // Before the decrease: 50. Requests sent before it may still arrive during
  // max_up, so from then on windows of only newer requests hold at most 20.
  EXPECT_EQ(max_in_window(at_or_after(sim.arrivals, t0, down_at), 5s), 50u);
  EXPECT_EQ(max_in_window(at_or_after(sim.arrivals, down_at + max_up, up_at), 5s), 20u);
  EXPECT_EQ(max_in_window(at_or_after(sim.arrivals, up_at, pause_at), 5s), 80u);
  EXPECT_LE(max_in_window(sim.arrivals, 5s), 80u);
  // Nothing is sent during the pause; sending resumes right at its end.
  EXPECT_TRUE(at_or_after(sim.sends, pause_at, pause_end).empty());
  EXPECT_EQ(at_or_after(sim.sends, pause_end).front(), pause_end);
  EXPECT_EQ(max_in_window(at_or_after(sim.arrivals, pause_end), 5s), 80u);
}

// ---------------------------------------------------------------- rate_controller

TEST(rate_controller, probes_with_one_request_then_adopts_announced_limit) {
  rate_controller rc;
  EXPECT_TRUE(rc.probing());
  EXPECT_EQ(rc.current(), (rate_controller::limit{1, 10s}));
  EXPECT_TRUE(rc.on_response(190, 189, 10000, 1, t0));
  EXPECT_FALSE(rc.probing());
  EXPECT_EQ(rc.current(), (rate_controller::limit{190, 10s}));
  EXPECT_EQ(rc.foreign_estimate(), 0);
  EXPECT_FALSE(rc.on_response(190, 150, 10000, 40, t0 + 1s));
  // A new interval is adopted too.
  EXPECT_TRUE(rc.on_response(110, 100, 5000, 10, t0 + 2s));
  EXPECT_EQ(rc.current(), (rate_controller::limit{110, 5s}));
}

TEST(rate_controller, falls_back_without_headers_and_keeps_last_announced_limit) {
  rate_controller rc;
  EXPECT_TRUE(rc.on_response(-1, -1, -1, 1, t0));
  EXPECT_EQ(rc.current(), (rate_controller::limit{100, 10s}));
  rate_controller custom({40, 2s});
  EXPECT_EQ(custom.current(), (rate_controller::limit{1, 2s}));
  custom.on_response(-1, -1, -1, 1, t0);
  EXPECT_EQ(custom.current(), (rate_controller::limit{40, 2s}));
  // Headers seen once are kept when a later response lacks them.
  EXPECT_TRUE(custom.on_response(250, 249, 10000, 1, t0 + 1s));
  EXPECT_FALSE(custom.on_response(-1, -1, -1, 5, t0 + 2s));
  EXPECT_EQ(custom.current(), (rate_controller::limit{250, 10s}));
}

TEST(rate_controller, remaining_counting_the_current_request_either_way_means_alone) {
  rate_controller rc;
  // Server counts this request before answering: Remaining = Max - ours.
  rc.on_response(100, 100 - 37, 10000, 37, t0);
  EXPECT_EQ(rc.foreign_estimate(), 0);
  EXPECT_EQ(rc.current().max, 100);
  // A server reporting before counting it (one more remaining) still reads as alone.
  rc.on_response(100, 100 - 37 + 1, 10000, 37, t0 + 1s);
  EXPECT_EQ(rc.foreign_estimate(), 0);
  EXPECT_EQ(rc.current().max, 100);
}

TEST(rate_controller, foreign_client_lowers_the_limit_and_is_forgotten_after_two_windows) {
  rate_controller rc;
  rc.on_response(100, 99, 10000, 1, t0);
  // 60 ours, 10 remaining: someone else used 30.
  EXPECT_TRUE(rc.on_response(100, 10, 10000, 60, t0 + 1s));
  EXPECT_EQ(rc.foreign_estimate(), 30);
  EXPECT_EQ(rc.current(), (rate_controller::limit{70, 10s}));
  // A smaller estimate does not raise the limit while the larger one is held.
  EXPECT_FALSE(rc.on_response(100, 20, 10000, 60, t0 + 6s));
  EXPECT_EQ(rc.foreign_estimate(), 30);
  // A larger one lowers it at once.
  EXPECT_TRUE(rc.on_response(100, 0, 10000, 60, t0 + 7s));
  EXPECT_EQ(rc.foreign_estimate(), 40);
  EXPECT_EQ(rc.current().max, 60);
  // Held for two windows (until t0 + 27 s), then the other client is gone.
  EXPECT_FALSE(rc.on_response(100, 30, 10000, 70, t0 + 27s - 1ns));
  EXPECT_EQ(rc.foreign_estimate(), 40);
  EXPECT_TRUE(rc.on_response(100, 30, 10000, 70, t0 + 27s));
  EXPECT_EQ(rc.foreign_estimate(), 0);
  EXPECT_EQ(rc.current().max, 100);
}

TEST(rate_controller, sliding_maximum_keeps_the_largest_sample_of_two_windows) {
  rate_controller rc;
  rc.on_response(100, 50, 10000, 20, t0);        // 30
  rc.on_response(100, 60, 10000, 20, t0 + 5s);   // 20
  rc.on_response(100, 70, 10000, 20, t0 + 9s);   // 10
  EXPECT_EQ(rc.foreign_estimate(), 30);
  rc.on_response(100, 80, 10000, 20, t0 + 20s);  // 0; the 30 expired, the 20 (t0+5s) is held
  EXPECT_EQ(rc.foreign_estimate(), 20);
  rc.on_response(100, 80, 10000, 20, t0 + 25s);
  EXPECT_EQ(rc.foreign_estimate(), 10);
  rc.on_response(100, 80, 10000, 20, t0 + 29s);
  EXPECT_EQ(rc.foreign_estimate(), 0);
}

TEST(rate_controller, rate_limited_response_lowers_the_limit_even_when_remaining_is_clamped) {
  rate_controller rc;
  rc.on_response(100, 99, 10000, 1, t0);
  // We hold 80 and the server says 0 remaining: reads as 20 foreign, but it
  // cannot tell 20 from 25 (Remaining is clamped at 0).
  rc.on_response(100, 0, 10000, 80, t0 + 1s);
  EXPECT_EQ(rc.current().max, 80);
  // A 429 proves at least 101 counted: at least 21 are not ours.
  EXPECT_TRUE(rc.on_rate_limited(80, t0 + 1s));
  EXPECT_EQ(rc.foreign_estimate(), 21);
  EXPECT_EQ(rc.current().max, 79);
  // Each further 429 lowers it by at least one.
  EXPECT_TRUE(rc.on_rate_limited(60, t0 + 2s));
  EXPECT_EQ(rc.foreign_estimate(), 41);
  EXPECT_TRUE(rc.on_rate_limited(79, t0 + 2s));
  EXPECT_EQ(rc.foreign_estimate(), 42);
  EXPECT_EQ(rc.current().max, 58);
  // Before any header: counted against the fallback.
  rate_controller fresh;
  EXPECT_FALSE(fresh.on_rate_limited(1, t0));  // still 1 per window
  EXPECT_FALSE(fresh.probing());
  EXPECT_EQ(fresh.foreign_estimate(), 100);
  EXPECT_EQ(fresh.current().max, 1);
}

TEST(rate_controller, share_scales_and_limit_never_drops_below_one) {
  rate_controller half({100, 10s}, 0.5);
  half.on_response(190, 189, 10000, 1, t0);
  EXPECT_EQ(half.current().max, 95);
  half.on_response(190, 0, 10000, 90, t0 + 1s);  // foreign 100
  EXPECT_EQ(half.foreign_estimate(), 100);
  EXPECT_EQ(half.current().max, 45);
  rate_controller fallback_half({100, 10s}, 0.5);
  fallback_half.on_response(-1, -1, -1, 1, t0);
  EXPECT_EQ(fallback_half.current().max, 50);
  rate_controller odd({100, 10s}, 0.29);
  odd.on_response(100, 99, 10000, 1, t0);
  EXPECT_EQ(odd.current().max, 29);
  rate_controller crowded;
  crowded.on_response(100, 0, 10000, 0, t0);  // everything used by others
  EXPECT_EQ(crowded.foreign_estimate(), 100);
  EXPECT_EQ(crowded.current().max, 1);
}

// Closed loop: a server counting every arrival (ours and a foreign client's)
// in a rolling window, Remaining clamped at 0 and a 429 above the limit. The
// foreign client sends 30 per window until foreign_stop.
struct closed_loop_result {
  int rejected = 0;                // 429s, either client
  int ours_rejected = 0;           // 429s we received
  int rejected_after_warmup = 0;   // 429s after the first three windows
  std::vector<std::pair<time_point, int>> limits;  // controller changes
  int limit_at(time_point t) const {
    int l = 1;
    for (const auto& [at, m] : limits) {
      if (at <= t) l = m;
    }
    return l;
  }
};

closed_loop_result run_closed_loop(rate_controller& rc, time_point foreign_start, time_point foreign_stop,
                                   time_point end) {
  const int announced = 100;
  const duration window = 10s;
  const duration foreign_gap = 333'333'334ns;  // 30 per window at most
  closed_loop_result res;
  window_limiter lim(rc.current().max, rc.current().window);
  std::mt19937_64 rng(7);
  auto latency = [&] { return duration(std::uniform_int_distribution<duration::rep>(1'000'000, 20'000'000)(rng)); };
  std::deque<time_point> server;
  auto arrive = [&](time_point a) {
    while (!server.empty() && server.front() + window <= a) server.pop_front();
    server.push_back(a);
    const int left = announced - static_cast<int>(server.size());
    if (left < 0) {
      ++res.rejected;
      if (a > t0 + 3 * window) ++res.rejected_after_warmup;
    }
    return left;  // negative: 429
  };
  time_point next_foreign = foreign_start;
  while (next_foreign < t0) {  // history before we start
    arrive(next_foreign);
    next_foreign += foreign_gap;
  }
  std::priority_queue<time_point, std::vector<time_point>, std::greater<>> our_arrivals;
  // (response time, announced - count at arrival)
  std::priority_queue<std::pair<time_point, int>, std::vector<std::pair<time_point, int>>, std::greater<>> responses;
  const auto never = time_point::max();
  int idle = 8;
  time_point now = t0;
  while (now < end) {
    while (idle > 0 && lim.ready_at(now) <= now) {
      lim.acquire(now);
      --idle;
      our_arrivals.push(now + latency());
    }
    const time_point next = std::min({idle > 0 ? lim.ready_at(now) : never, next_foreign < foreign_stop ? next_foreign : never,
                                      our_arrivals.empty() ? never : our_arrivals.top(),
                                      responses.empty() ? never : responses.top().first});
    if (next == never) {
      ADD_FAILURE() << "deadlock";
      break;
    }
    now = next;
    // One event at a time in time order (ties: foreign, then ours, then responses).
    if (next_foreign < foreign_stop && next_foreign == now) {
      arrive(now);
      next_foreign += foreign_gap;
    } else if (!our_arrivals.empty() && our_arrivals.top() == now) {
      our_arrivals.pop();
      const int left = arrive(now);
      if (left < 0) ++res.ours_rejected;
      responses.push({now + latency(), left});
    } else if (!responses.empty() && responses.top().first == now) {
      const auto [at, left] = responses.top();
      responses.pop();
      const int own = lim.occupied(at);
      lim.complete(at);
      ++idle;
      bool changed = rc.on_response(announced, std::max(0, left), 10000, own, at);
      if (left < 0) changed = rc.on_rate_limited(own, at) || changed;
      if (changed) {
        lim.set_limit(rc.current().max, rc.current().window);
        res.limits.emplace_back(at, rc.current().max);
      }
    }
  }
  return res;
}

TEST(rate_controller, closed_loop_foreign_client_already_running) {
  rate_controller rc;
  const time_point foreign_stop = t0 + 120s;
  const auto res = run_closed_loop(rc, t0 - 30s, foreign_stop, t0 + 200s);
  // The probe sees the other client's 30 and we take exactly the rest: the
  // window is full, never over.
  EXPECT_EQ(res.rejected, 0);
  EXPECT_EQ(res.limit_at(t0 + 1s), 70);
  EXPECT_EQ(res.limit_at(foreign_stop - 1s), 70);
  // The server forgets the client 10 s after it stops, our estimate two
  // windows later.
  EXPECT_EQ(res.limit_at(foreign_stop + 9s), 70);
  EXPECT_LT(res.limit_at(foreign_stop + 15s), 100);
  EXPECT_EQ(res.limit_at(foreign_stop + 31s), 100);
  EXPECT_EQ(rc.current().max, 100);
  EXPECT_EQ(rc.foreign_estimate(), 0);
}

TEST(rate_controller, closed_loop_foreign_client_starting_with_us) {
  rate_controller rc;
  const time_point foreign_stop = t0 + 120s;
  const auto res = run_closed_loop(rc, t0, foreign_stop, t0 + 200s);
  // The other client's future use is unknown at first, so the first windows
  // see some 429s (the server counts rejected requests too); the controller
  // learns from ours (on_rate_limited) and Remaining, then none.
  EXPECT_GT(res.ours_rejected, 0);
  EXPECT_LT(res.rejected, 100);
  EXPECT_EQ(res.rejected_after_warmup, 0);
  EXPECT_EQ(res.limit_at(t0 + 60s), 70);
  EXPECT_EQ(res.limit_at(foreign_stop - 1s), 70);
  EXPECT_EQ(res.limit_at(foreign_stop + 31s), 100);
}
