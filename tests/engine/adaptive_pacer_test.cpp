#include "engine/adaptive_pacer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <queue>
#include <random>
#include <vector>

using namespace hubbatch::engine;
using namespace std::chrono_literals;
using answer = adaptive_pacer::answer;

namespace {

// A fake clock is just time_point values: nothing here reads a real clock.
const time_point t0 = time_point{} + 1h;

// Feeds `n` answers spread evenly over `span` starting at `from`, at the
// pacer's rate; returns the time after them.
time_point feed(adaptive_pacer& p, time_point from, duration span, int n, duration latency, answer a = answer::clean) {
  for (int i = 1; i <= n; ++i) p.on_answer(from + span * i / n, latency, a);
  return from + span;
}

// Clean epochs with as many answers as the rate asks for.
time_point clean_epochs(adaptive_pacer& p, time_point t, int epochs, duration latency = 5ms) {
  for (int e = 0; e < epochs; ++e) {
    const int n = std::max(5, static_cast<int>(std::ceil(p.rate() * 0.5)));
    t = feed(p, t, 500ms, n, latency);
  }
  return t;
}

// A server with a hidden capacity per rolling second: above it, 429; answers
// slow down as load nears it (the sandbox's --capacity model). The client
// sends as the pacer allows (spacing 1/rate, in flight at most the cap).
struct sim_result {
  double steady_rate = 0;  // accepted requests per second over the last half
  double throttled_share = 0;
  int max_in_window = 0;
};

sim_result simulate(double capacity, double start, double ceiling, int connections, duration run = 60s,
                    double base_ms = 3) {
  adaptive_pacer p({start, ceiling, connections}, t0);
  std::deque<time_point> accepted;                                   // server: accepted arrivals in the trailing second
  using event = std::pair<time_point, std::pair<time_point, bool>>;  // answer at, (sent at, throttled)
  std::priority_queue<event, std::vector<event>, std::greater<>> answers;
  int in_flight = 0;
  time_point last_send = t0 - 1h, t = t0;
  const time_point end = t0 + run, half = t0 + run / 2;
  long sent_late = 0, ok_late = 0, throttled = 0, sent = 0;
  sim_result r;
  while (t < end) {
    const auto spacing = std::chrono::duration_cast<duration>(std::chrono::duration<double>(1.0 / p.rate()));
    const time_point next_send = in_flight < p.in_flight_cap() ? std::max(t, last_send + spacing) : time_point::max();
    const time_point next_answer = answers.empty() ? time_point::max() : answers.top().first;
    t = std::min(next_send, next_answer);
    if (t >= end) break;
    if (next_answer <= next_send) {
      auto [at, what] = answers.top();
      answers.pop();
      --in_flight;
      p.on_answer(at, at - what.first, what.second ? answer::throttled : answer::clean);
      if (std::getenv("PACER_TRACE"))
        std::printf("%.3f rate %.1f cap %d lat %.0f %s\n", std::chrono::duration<double>(at - t0).count(), p.rate(),
                    p.in_flight_cap(), std::chrono::duration<double, std::milli>(at - what.first).count(),
                    what.second ? "429" : "");
      continue;
    }
    last_send = t;
    ++in_flight;
    ++sent;
    while (!accepted.empty() && accepted.front() <= t - 1s) accepted.pop_front();
    const bool over = accepted.size() + 1 > static_cast<std::size_t>(capacity);
    double latency_ms = base_ms;
    if (!over) {
      accepted.push_back(t);
      r.max_in_window = std::max(r.max_in_window, static_cast<int>(accepted.size()));
      const double u = accepted.size() / capacity;
      if (u > 0.75) latency_ms += 200 * std::pow((u - 0.75) / 0.25, 2);
    } else {
      ++throttled;
    }
    if (t >= half) {
      ++sent_late;
      if (!over) ++ok_late;
    }
    answers.push(
        {t + std::chrono::duration_cast<duration>(std::chrono::duration<double, std::milli>(latency_ms)), {t, over}});
  }
  r.steady_rate = ok_late / std::chrono::duration<double>(end - half).count();
  r.throttled_share = sent ? static_cast<double>(throttled) / static_cast<double>(sent) : 0;
  (void)sent_late;
  return r;
}

}  // namespace

TEST(adaptive_pacer, starts_at_the_window_rate_and_grows_a_quarter_per_clean_epoch) {
  adaptive_pacer p({19, 100, 8}, t0);
  EXPECT_DOUBLE_EQ(p.rate(), 19);
  time_point t = clean_epochs(p, t0, 1);
  EXPECT_NEAR(p.rate(), 19 * 1.25, 1e-9);
  clean_epochs(p, t, 1);
  EXPECT_NEAR(p.rate(), 19 * 1.25 * 1.25, 1e-9);
}

TEST(adaptive_pacer, never_passes_the_ceiling) {
  adaptive_pacer p({19, 40, 8}, t0);
  clean_epochs(p, t0, 40);
  EXPECT_DOUBLE_EQ(p.rate(), 40);
}

TEST(adaptive_pacer, a_rate_the_work_did_not_use_does_not_grow) {
  adaptive_pacer p({19, 100, 8}, t0);
  feed(p, t0, 500ms, 2, 5ms);  // 2 answers where 9.5 were allowed
  feed(p, t0 + 500ms, 500ms, 2, 5ms);
  EXPECT_DOUBLE_EQ(p.rate(), 19);
}

TEST(adaptive_pacer, a_429_halves_once_per_hold) {
  adaptive_pacer p({40, 100, 8}, t0);
  EXPECT_TRUE(p.on_answer(t0 + 10ms, 5ms, answer::throttled));
  EXPECT_DOUBLE_EQ(p.rate(), 20);
  EXPECT_FALSE(p.on_answer(t0 + 20ms, 5ms, answer::throttled)) << "the same overload, already answered";
  EXPECT_DOUBLE_EQ(p.rate(), 20);
  EXPECT_FALSE(p.on_answer(t0 + 600ms, 5ms, answer::throttled))
      << "a second of hold: the server still counts the old rate";
  EXPECT_TRUE(p.on_answer(t0 + 1100ms, 5ms, answer::throttled));
  EXPECT_DOUBLE_EQ(p.rate(), 10);
  EXPECT_EQ(p.decreases(), 2);
  EXPECT_NE(p.last_reason().find("429"), std::string::npos);
}

TEST(adaptive_pacer, after_a_halving_and_its_second_of_hold_it_grows_by_5_percent) {
  adaptive_pacer p({80, 200, 64}, t0);
  p.on_answer(t0, 5ms, answer::throttled);
  ASSERT_DOUBLE_EQ(p.rate(), 40);
  time_point t = clean_epochs(p, t0, 1);
  EXPECT_DOUBLE_EQ(p.rate(), 40) << "held for a second";
  clean_epochs(p, t, 1);
  EXPECT_NEAR(p.rate(), 42, 1e-9);
}

TEST(adaptive_pacer, answers_to_requests_sent_before_a_halving_are_ignored) {
  adaptive_pacer p({80, 200, 64}, t0);
  p.on_answer(t0 + 1s, 5ms, answer::throttled);
  for (int i = 0; i < 50; ++i) p.on_answer(t0 + 2s + i * 10ms, 1500ms, answer::server_error);
  EXPECT_DOUBLE_EQ(p.rate(), 40) << "sent before the halving: the old rate's news";
}

TEST(adaptive_pacer, a_burst_of_5xx_halves) {
  adaptive_pacer p({40, 100, 8}, t0);
  p.on_answer(t0 + 1ms, 5ms, answer::clean);
  p.on_answer(t0 + 2ms, 5ms, answer::server_error);
  p.on_answer(t0 + 3ms, 5ms, answer::clean);
  EXPECT_DOUBLE_EQ(p.rate(), 40) << "one 5xx is no burst";
  for (int i = 0; i < 6; ++i) p.on_answer(t0 + 4ms + i * 1ms, 5ms, answer::clean);
  p.on_answer(t0 + 20ms, 5ms, answer::server_error);
  p.on_answer(t0 + 21ms, 5ms, answer::server_error);
  EXPECT_DOUBLE_EQ(p.rate(), 20) << "three in an epoch";
  EXPECT_NE(p.last_reason().find("5xx"), std::string::npos);
}

TEST(adaptive_pacer, latency_bands_above_the_baseline_creep_ease_off_or_halve) {
  adaptive_pacer p({40, 40, 64}, t0);
  time_point t = clean_epochs(p, t0, 4, 20ms);  // baseline 20 ms, at the ceiling
  ASSERT_DOUBLE_EQ(p.rate(), 40);
  t = clean_epochs(p, t, 1, 120ms);  // 100 ms above: fast no longer, not slow yet
  EXPECT_DOUBLE_EQ(p.rate(), 40);
  t = clean_epochs(p, t, 1, 140ms);  // 120 ms above: slow, ease off 3%
  EXPECT_NEAR(p.rate(), 38.8, 1e-9);
  t = clean_epochs(p, t, 1, 100ms);  // 80 ms above: warm, creep 1%
  EXPECT_NEAR(p.rate(), 38.8 * 1.01, 1e-9);
  clean_epochs(p, t, 1, 200ms);  // 180 ms above and 10x the baseline: a clear rise
  EXPECT_NEAR(p.rate(), 38.8 * 1.01 / 2, 1e-9);
  EXPECT_NE(p.last_reason().find("latency"), std::string::npos);
}

TEST(adaptive_pacer, for_a_slow_server_the_bands_scale_with_its_baseline) {
  adaptive_pacer p({10, 10, 64}, t0);
  time_point t = clean_epochs(p, t0, 4, 400ms);  // baseline 400 ms
  t = clean_epochs(p, t, 1, 580ms);              // +180 ms is under half of 400: warm
  EXPECT_DOUBLE_EQ(p.rate(), 10);
  clean_epochs(p, t, 1, 850ms);  // +450 ms: more than the baseline above it
  EXPECT_DOUBLE_EQ(p.rate(), 5);
}

TEST(adaptive_pacer, requests_in_flight_follow_rate_times_latency_within_the_connections) {
  adaptive_pacer p({20, 100, 8}, t0);
  EXPECT_EQ(p.in_flight_cap(), 2) << "no latency known yet";
  clean_epochs(p, t0, 1, 100ms);  // 25/s at 100 ms: 2.5 needed, twice that plus two allowed
  EXPECT_EQ(p.in_flight_cap(), 7);
  clean_epochs(p, t0 + 500ms, 10, 100ms);
  EXPECT_EQ(p.in_flight_cap(), 8) << "never more than the connections";
}

TEST(adaptive_pacer, against_a_hidden_capacity_it_holds_90_percent_with_few_429s) {
  // (Below about 40/s one request is several percent of the capacity and the
  // server's latency jumps in steps that large; the sandbox bench runs 60/s.)
  for (double capacity : {60.0, 150.0, 400.0}) {
    const sim_result r = simulate(capacity, 19, 1000, 64);
    EXPECT_GE(r.steady_rate, 0.9 * capacity) << "capacity " << capacity;
    EXPECT_LE(r.throttled_share, 0.01) << "capacity " << capacity;
    EXPECT_LE(r.max_in_window, static_cast<int>(capacity));
  }
}

TEST(adaptive_pacer, below_the_capacity_the_ceiling_holds) {
  const sim_result r = simulate(500, 19, 100, 64);
  EXPECT_NEAR(r.steady_rate, 100, 2);
  EXPECT_EQ(r.throttled_share, 0);
}
