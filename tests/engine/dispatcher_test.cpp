#include "engine/dispatcher.hpp"

#include "codec/archive_encoder.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

using namespace hubbatch;
using namespace hubbatch::engine;
using namespace std::chrono_literals;

namespace {

std::vector<pair_id> make_pairs(std::uint64_t from0, std::size_t froms, std::size_t tos_each) {
  std::vector<pair_id> v;
  for (std::uint64_t f = 0; f < froms; ++f)
    for (std::uint64_t t = 0; t < tos_each; ++t) v.push_back({from0 + f, 9000 + f * 100 + t});
  return v;
}

struct harness {
  counters c;
  std::map<std::string, std::vector<pair_id>> outcomes;  // "failed:CAT" / "pending:reason" -> pairs
  std::map<std::string, bool> retryable;                 // the same keys -> pair_outcome::retryable (last seen)
  std::map<std::string, std::string> messages;           // the same keys -> message (last seen)
  dispatcher d;
  time_point now = time_point{} + 1000s;

  explicit harness(dispatcher::options o = {}, const operation& op = archive_operation())
      : d(o, c, [this](std::span<const pair_id> pairs, std::span<const std::uint64_t>, const pair_outcome& out) {
          const std::string key = std::string(to_string(out.outcome)) + ":" + std::string(out.category);
          auto& into = outcomes[key];
          into.insert(into.end(), pairs.begin(), pairs.end());
          retryable[key] = out.retryable;
          messages[key] = std::string(out.message);
        }, op) {}

  // Adds pairs as a batch, mirroring the job's input accounting.
  void add(std::vector<pair_id> pairs) {
    c.input_pairs += pairs.size();
    ++c.batches;
    d.add(std::move(pairs));
  }

  // Takes the next due item and counts it as sent, as a session would.
  std::optional<work_item> send(time_point at) {
    auto item = d.take(at);
    if (item) {
      ++c.requests;
      if (item->resend) ++c.retries;
    }
    return item;
  }

  work_item take() {
    auto item = send(now);
    EXPECT_TRUE(item.has_value());
    return item ? std::move(*item) : work_item{};
  }

  void respond(work_item&& item, int status, const codec::decoded_response* body = nullptr,
               const codec::rate_limit_headers* headers = nullptr) {
    attempt_result r;
    r.status = status;
    r.body = body;
    r.headers = headers;
    d.on_result(std::move(item), r, now);
  }

  void reset(work_item&& item, bool written) {
    attempt_result r;
    r.what = attempt_result::kind::transport_error;
    r.error = "connection reset";
    r.request_written = written;
    d.on_result(std::move(item), r, now);
  }

  // Answers every due item with `answer` until nothing is queued; advances
  // the fake clock past backoffs.
  template <typename F>
  void drain(F answer, int max_steps = 100000) {
    for (int i = 0; i < max_steps && d.queued() > 0; ++i) {
      auto item = send(now);
      if (!item) {
        now = std::max(d.next_due(), now + 1ms);
        continue;
      }
      answer(std::move(*item));
    }
  }

  void expect_balanced() {
    EXPECT_EQ(c.input_pairs, c.done_pairs + c.failed_pairs + c.rejected_pairs + c.duplicate_pairs + c.pending_pairs);
    EXPECT_EQ(c.check(), "");
  }
};

codec::decoded_response error_body(std::string category, std::string message) {
  codec::decoded_response b;
  b.kind = codec::body_kind::json_object;
  b.status = "error";
  b.category = std::move(category);
  b.message = std::move(message);
  return b;
}

codec::decoded_response daily_429_body() {
  auto b = error_body("", "You have reached your daily limit.");
  b.policy_name = "DAILY";
  return b;
}

codec::decoded_response rolling_429_body() {
  auto b = error_body("", "You have reached your ten_secondly_rolling limit.");
  b.policy_name = "TEN_SECONDLY_ROLLING";
  return b;
}

}  // namespace

TEST(dispatcher, success_archives_every_pair) {
  harness h;
  h.add(make_pairs(1, 10, 4));
  h.respond(h.take(), 204);
  EXPECT_EQ(h.c.done_pairs, 40u);
  EXPECT_EQ(h.d.queued(), 0u);
  EXPECT_EQ(h.d.in_flight(), 0u);
  h.expect_balanced();
}

TEST(dispatcher, server_errors_retry_with_backoff_then_succeed) {
  harness h;
  h.add(make_pairs(1, 2, 2));
  auto body = error_body("", "internal error");
  h.respond(h.take(), 500, &body);
  EXPECT_EQ(h.c.done_pairs, 0u);
  EXPECT_FALSE(h.d.take(h.now).has_value()) << "a retry must wait for its backoff";
  h.now = h.d.next_due();
  auto item = h.take();
  EXPECT_TRUE(item.resend);
  EXPECT_TRUE(item.maybe_applied);
  EXPECT_EQ(item.attempt, 1);
  h.respond(std::move(item), 204);
  EXPECT_EQ(h.c.done_pairs, 4u);
  h.expect_balanced();
}

TEST(dispatcher, retries_exhausted_fail_with_reason) {
  dispatcher::options o;
  o.max_retries = 3;
  harness h(o);
  h.add(make_pairs(1, 1, 3));
  int sends = 0;
  h.drain([&](work_item&& w) {
    ++sends;
    h.respond(std::move(w), 503);
  });
  EXPECT_EQ(sends, 4);  // first try + 3 retries
  EXPECT_EQ(h.c.failed_pairs, 3u);
  EXPECT_EQ(h.c.errors_by_category["HTTP_503"], 3u);
  EXPECT_EQ(h.outcomes["failed:HTTP_503"].size(), 3u);
  h.expect_balanced();
}

TEST(dispatcher, transport_errors_are_retried_and_mark_maybe_applied) {
  harness h;
  h.add(make_pairs(1, 1, 1));
  h.reset(h.take(), true);
  EXPECT_EQ(h.c.transport_errors, 1u);
  h.now = h.d.next_due();
  auto item = h.take();
  EXPECT_TRUE(item.maybe_applied);
  h.respond(std::move(item), 204);
  EXPECT_EQ(h.c.done_pairs, 1u);
  h.expect_balanced();
}

// A certificate that fails verification is not retried: the run stops with
// stop_reason tls and the cause, the item and everything queued end pending.
TEST(dispatcher, a_tls_failure_stops_the_run_and_leaves_every_pair_pending) {
  harness h;
  h.add(make_pairs(1, 1, 3));
  h.add(make_pairs(2, 1, 2));
  attempt_result r;
  r.what = attempt_result::kind::tls_failure;
  r.error = "connect to api.hubapi.com:443: certificate verify failed";
  h.d.on_result(h.take(), r, h.now);
  EXPECT_EQ(h.d.stopped(), stop_reason::tls);
  EXPECT_EQ(h.d.stop_message(), "connect to api.hubapi.com:443: certificate verify failed");
  EXPECT_EQ(h.c.transport_errors, 1u);
  EXPECT_EQ(h.c.retries, 0u);
  EXPECT_FALSE(h.d.take(h.now + 1h).has_value()) << "nothing more is sent";
  h.d.drain_pending();
  EXPECT_EQ(h.c.pending_pairs, 5u);
  EXPECT_EQ(h.outcomes["pending:tls"].size(), 5u);
  h.expect_balanced();
}

TEST(dispatcher, ten_secondly_429_pauses_everyone_and_resends_without_counting_an_attempt) {
  harness h;
  h.add(make_pairs(1, 1, 1));
  h.add(make_pairs(2, 1, 1));
  auto body = rolling_429_body();
  codec::rate_limit_headers hdr;
  hdr.retry_after_ms = 3000;
  auto first = h.take();
  h.respond(std::move(first), 429, &body, &hdr);
  EXPECT_EQ(h.c.rate_limited, 1u);
  EXPECT_EQ(h.d.rate_pause_until(), h.now + 3s);
  EXPECT_FALSE(h.d.take(h.now + 2s).has_value()) << "paused";
  h.now += 3s;
  auto again = h.take();
  EXPECT_EQ(again.attempt, 0);
  EXPECT_TRUE(again.resend);
  EXPECT_EQ(again.pairs.front().from, 1u) << "the rate-limited batch goes first";
  h.respond(std::move(again), 204);
  h.respond(h.take(), 204);
  EXPECT_EQ(h.c.done_pairs, 2u);
  h.expect_balanced();
}

TEST(dispatcher, daily_429_stops_and_leaves_everything_pending) {
  harness h;
  for (int i = 0; i < 5; ++i) h.add(make_pairs(1 + i * 10, 2, 2));
  auto body = daily_429_body();
  auto a = h.take();
  auto b = h.take();
  h.respond(std::move(a), 429, &body);
  EXPECT_EQ(h.d.stopped(), stop_reason::daily_limit);
  EXPECT_FALSE(h.d.take(h.now).has_value());
  h.respond(std::move(b), 204);  // an in-flight success still counts
  h.d.drain_pending();
  EXPECT_EQ(h.c.done_pairs, 4u);
  EXPECT_EQ(h.c.pending_pairs, 16u);
  EXPECT_EQ(h.outcomes["pending:daily_limit"].size(), 16u);
  h.expect_balanced();
}

TEST(dispatcher, nothing_but_429s_for_the_throttle_timeout_stops_with_pairs_pending) {
  dispatcher::options o;
  o.throttle_timeout = 60s;
  harness h(o);
  for (int i = 0; i < 3; ++i) h.add(make_pairs(1 + i * 10, 1, 2));
  auto body = rolling_429_body();
  int answered = 0;
  h.drain([&](work_item&& w) {
    ++answered;
    h.respond(std::move(w), 429, &body);  // forever, 1 s apart (rate_pause)
  });
  EXPECT_EQ(h.d.stopped(), stop_reason::rate_limited);
  EXPECT_NE(h.d.stop_message().find("--throttle-timeout"), std::string::npos) << h.d.stop_message();
  EXPECT_EQ(answered, 61) << "a 429 each second from t=0 until t=60 s";
  h.d.drain_pending();
  EXPECT_EQ(h.c.pending_pairs, 6u);
  EXPECT_EQ(h.outcomes["pending:rate_limited"].size(), 6u);
  h.expect_balanced();
}

// 429s with something else every 50th answer: a success, or a transport
// error (a timeout now and then, never a success). Either restarts the
// "nothing but 429s" clock, so a run of 429s is never 60 s long here.
TEST(dispatcher, any_other_outcome_restarts_the_throttle_clock) {
  for (bool success : {true, false}) {
    SCOPED_TRACE(success ? "success" : "transport error");
    dispatcher::options o;
    o.throttle_timeout = 60s;
    harness h(o);
    for (int i = 0; i < 200; ++i) h.add(make_pairs(1 + i * 10, 1, 1));
    auto body = rolling_429_body();
    int n = 0;
    h.drain([&](work_item&& w) {
      if (++n % 50 != 0) h.respond(std::move(w), 429, &body);
      else if (success) h.respond(std::move(w), 204);
      else h.reset(std::move(w), false);
    }, 20000);
    EXPECT_EQ(h.d.stopped(), stop_reason::none);
    if (success) {
      EXPECT_EQ(h.c.done_pairs, 200u);
      h.expect_balanced();
    } else {
      EXPECT_GT(h.c.rate_limited, 5000u);
    }
  }
}

TEST(dispatcher, zero_throttle_timeout_never_gives_up) {
  dispatcher::options o;
  o.throttle_timeout = 0s;
  harness h(o);
  h.add(make_pairs(1, 1, 1));
  int n = 0;
  h.drain([&](work_item&& w) { h.respond(std::move(w), ++n < 5000 ? 429 : 204); });
  EXPECT_EQ(h.d.stopped(), stop_reason::none);
  EXPECT_EQ(h.c.done_pairs, 1u);
  EXPECT_EQ(h.c.rate_limited, 4999u);
  h.expect_balanced();
}

TEST(dispatcher, retry_after_beyond_the_cap_stops_instead_of_sleeping) {
  for (int status : {429, 477, 503}) {
    SCOPED_TRACE(status);
    dispatcher::options o;
    o.max_retry_after = 5min;
    harness h(o);
    h.add(make_pairs(1, 1, 2));
    h.add(make_pairs(2, 1, 2));
    codec::rate_limit_headers hdr;
    hdr.retry_after_ms = 24LL * 3600 * 1000;  // a day
    h.respond(h.take(), status, nullptr, &hdr);
    EXPECT_EQ(h.d.stopped(), stop_reason::retry_after);
    EXPECT_NE(h.d.stop_message().find("86400 s"), std::string::npos) << h.d.stop_message();
    h.d.drain_pending();
    EXPECT_EQ(h.c.pending_pairs, 4u);
    EXPECT_EQ(h.c.failed_pairs, 0u);
    h.expect_balanced();
  }
}

TEST(dispatcher, a_daily_429_with_a_long_retry_after_is_still_the_daily_limit) {
  harness h;
  h.add(make_pairs(1, 1, 2));
  auto body = daily_429_body();
  codec::rate_limit_headers hdr;
  hdr.retry_after_ms = 8LL * 3600 * 1000;
  h.respond(h.take(), 429, &body, &hdr);
  EXPECT_EQ(h.d.stopped(), stop_reason::daily_limit);
  h.d.drain_pending();
  EXPECT_EQ(h.c.pending_pairs, 2u);
  h.expect_balanced();
}

TEST(dispatcher, retry_after_within_the_cap_is_honoured) {
  dispatcher::options o;
  o.max_retry_after = 5min;
  harness h(o);
  h.add(make_pairs(1, 1, 1));
  codec::rate_limit_headers hdr;
  hdr.retry_after_ms = 5 * 60 * 1000;  // exactly the cap
  h.respond(h.take(), 477, nullptr, &hdr);
  EXPECT_EQ(h.d.stopped(), stop_reason::none);
  EXPECT_GE(h.d.next_due(), h.now + 5min);
  h.now = h.d.next_due();
  h.respond(h.take(), 204);
  EXPECT_EQ(h.c.done_pairs, 1u);
  h.expect_balanced();
}

TEST(dispatcher, auth_errors_stop_with_scopes) {
  harness h;
  h.add(make_pairs(1, 2, 1));
  auto body = error_body("MISSING_SCOPES", "This app hasn't been granted all required scopes to make this call.");
  body.required_scopes = {"crm.objects.contacts.write"};
  h.respond(h.take(), 403, &body);
  EXPECT_EQ(h.d.stopped(), stop_reason::auth);
  EXPECT_EQ(h.d.required_scopes(), std::vector<std::string>{"crm.objects.contacts.write"});
  EXPECT_EQ(h.c.pending_pairs, 2u);
  h.expect_balanced();
}

TEST(dispatcher, batch_too_large_halves_caps_and_resends_split) {
  dispatcher::options o;
  o.max_inputs = 100;
  harness h(o);
  h.add(make_pairs(1, 100, 4));
  auto too_large = error_body("VALIDATION_ERROR",
                              "The maximum number of inputs supported in a batch is 50. Please reduce the number of items and try again");
  too_large.batch_too_large = true;
  std::multiset<std::size_t> sizes;
  h.drain([&](work_item&& w) {
    if (codec::count_inputs(w.pairs) > 25) {
      h.respond(std::move(w), 400, &too_large);
    } else {
      sizes.insert(codec::count_inputs(w.pairs));
      h.respond(std::move(w), 204);
    }
  });
  EXPECT_EQ(h.d.max_inputs(), 25u);
  EXPECT_EQ(h.c.done_pairs, 400u);
  EXPECT_EQ(h.c.failed_pairs, 0u);
  EXPECT_EQ(sizes, (std::multiset<std::size_t>{25, 25, 25, 25}));
  h.expect_balanced();
}

TEST(dispatcher, a_learned_batch_size_sends_its_probe_first_and_settles_at_the_limit_the_answer_names) {
  dispatcher::options o;
  o.max_inputs = 100;
  o.learn_batch_size = true;
  o.batch_ceiling = 2000;
  harness h(o);
  for (int i = 0; i < 4; ++i) {
    h.add(make_pairs(1 + i * 100, 100, 1));
    h.respond(h.take(), 204);
  }
  ASSERT_EQ(h.d.cut_inputs(), 200u) << "four clean answers: one batch may try twice the size";
  h.add(make_pairs(1001, 100, 1));  // cut before the probe
  h.add(make_pairs(2001, 200, 1));  // the probe
  EXPECT_EQ(h.d.cut_inputs(), 100u) << "one probe at a time";
  work_item first = h.take();
  ASSERT_EQ(codec::count_inputs(first.pairs), 200u) << "the probe goes first";
  auto too_large = error_body("VALIDATION_ERROR",
                              "The maximum number of inputs supported in a batch is 150. Please reduce the number of items and try again");
  too_large.batch_too_large = true;
  too_large.batch_limit = 150;
  h.respond(std::move(first), 400, &too_large);
  EXPECT_EQ(h.d.max_inputs(), 150u);
  EXPECT_EQ(h.d.cut_inputs(), 150u) << "settled: no more probes";
  std::multiset<std::size_t> sizes;
  h.drain([&](work_item&& w) {
    sizes.insert(codec::count_inputs(w.pairs));
    h.respond(std::move(w), 204);
  });
  EXPECT_EQ(sizes, (std::multiset<std::size_t>{150, 50, 100})) << "the refused batch resent split at the limit";
  EXPECT_EQ(h.c.done_pairs, 700u);
  EXPECT_EQ(h.d.sizing().refusals(), 1);
  h.expect_balanced();
}

TEST(dispatcher, the_daily_reserve_stops_the_run_whatever_paces_it) {
  dispatcher::options o;
  o.daily_reserve = 500;
  harness h(o);
  for (int i = 0; i < 5; ++i) h.add(make_pairs(1 + i * 10, 10, 2));
  codec::rate_limit_headers plenty, low;
  plenty.daily_remaining = 501;
  low.daily_remaining = 500;
  h.respond(h.take(), 204, nullptr, &plenty);
  EXPECT_EQ(h.d.stopped(), stop_reason::none);
  work_item in_flight = h.take();
  h.respond(h.take(), 204, nullptr, &low);
  EXPECT_EQ(h.d.stopped(), stop_reason::daily_reserve) << "its own answer counts, the rest waits";
  EXPECT_FALSE(h.d.take(h.now).has_value());
  h.respond(std::move(in_flight), 204, nullptr, &low);  // an answer already on its way still settles
  h.d.drain_pending();
  EXPECT_EQ(h.c.done_pairs, 60u);
  EXPECT_EQ(h.c.pending_pairs, 40u);
  h.expect_balanced();
}

TEST(dispatcher, poisoned_input_is_isolated_by_bisection) {
  harness h;
  auto pairs = make_pairs(1, 100, 4);
  const pair_id poison = pairs[137];
  h.add(pairs);
  auto bad = error_body("VALIDATION_ERROR", "invalid id");
  int requests = 0;
  h.drain([&](work_item&& w) {
    ++requests;
    bool poisoned = std::find(w.pairs.begin(), w.pairs.end(), poison) != w.pairs.end();
    h.respond(std::move(w), poisoned ? 400 : 204, poisoned ? &bad : nullptr);
  });
  EXPECT_EQ(h.c.failed_pairs, 1u);
  EXPECT_EQ(h.c.done_pairs, 399u);
  ASSERT_EQ(h.outcomes["failed:VALIDATION_ERROR"].size(), 1u);
  EXPECT_EQ(h.outcomes["failed:VALIDATION_ERROR"][0], poison);
  EXPECT_LE(requests, 2 * 9 + 1) << "bisection costs O(log n) requests";
  h.expect_balanced();
}

TEST(dispatcher, error_naming_ids_fails_those_and_resends_the_rest) {
  harness h;
  h.add(make_pairs(1, 3, 2));
  auto bad = error_body("VALIDATION_ERROR", "bad ids");
  bad.context_from_ids = {2};
  int requests = 0;
  h.drain([&](work_item&& w) {
    ++requests;
    bool has2 = std::any_of(w.pairs.begin(), w.pairs.end(), [](pair_id p) { return p.from == 2; });
    h.respond(std::move(w), has2 ? 400 : 204, has2 ? &bad : nullptr);
  });
  EXPECT_EQ(requests, 2);
  EXPECT_EQ(h.c.failed_pairs, 2u);
  EXPECT_EQ(h.c.done_pairs, 4u);
  h.expect_balanced();
}

TEST(dispatcher, partial_errors_in_2xx_match_pairs_by_context_ids) {
  harness h;
  h.add(make_pairs(1, 3, 2));  // from 1..3, to 9000+f*100+t
  codec::decoded_response body;
  body.kind = codec::body_kind::json_object;
  body.status = "COMPLETE";
  body.num_errors = 1;
  codec::error_item e;
  e.category = "VALIDATION_ERROR";
  e.message = "bad";
  e.from_ids = {2};
  e.to_ids = {9101};
  body.errors.push_back(e);
  h.respond(h.take(), 200, &body);
  EXPECT_EQ(h.c.failed_pairs, 1u);
  EXPECT_EQ(h.c.done_pairs, 5u);
  ASSERT_EQ(h.outcomes["failed:VALIDATION_ERROR"].size(), 1u);
  EXPECT_EQ(h.outcomes["failed:VALIDATION_ERROR"][0], (pair_id{2, 9101}));
  h.expect_balanced();
}

TEST(dispatcher, absent_pairs_count_as_archived) {
  harness h;
  h.add(make_pairs(1, 2, 1));
  codec::decoded_response body;
  body.kind = codec::body_kind::json_object;
  body.num_errors = 1;
  codec::error_item e;
  e.category = "OBJECT_NOT_FOUND";
  e.sub_category = "crm.associations.NO_ASSOCIATIONS_FOUND";
  e.from_ids = {1};
  body.errors.push_back(e);
  h.respond(h.take(), 200, &body);
  EXPECT_EQ(h.c.done_pairs, 2u);
  EXPECT_EQ(h.c.already_absent_pairs, 1u);
  h.expect_balanced();
}

TEST(dispatcher, invalid_identifier_is_a_failure_not_absence) {
  harness h;
  h.add(make_pairs(1, 2, 1));
  auto bad = error_body("VALIDATION_ERROR", "One or more object ids are invalid for this association batch.");
  bad.sub_category = "crm.associations.INVALID_IDENTIFIER";
  bad.context_from_ids = {1};
  h.drain([&](work_item&& w) {
    bool has1 = std::any_of(w.pairs.begin(), w.pairs.end(), [](pair_id p) { return p.from == 1; });
    h.respond(std::move(w), has1 ? 400 : 204, has1 ? &bad : nullptr);
  });
  EXPECT_EQ(h.c.failed_pairs, 1u);
  EXPECT_EQ(h.c.done_pairs, 1u);
  EXPECT_EQ(h.c.already_absent_pairs, 0u);
  h.expect_balanced();
}

TEST(dispatcher, halving_recuts_batches_already_waiting) {
  dispatcher::options o;
  o.max_inputs = 8;
  harness h(o);
  for (int b = 0; b < 5; ++b) h.add(make_pairs(100 * (b + 1), 8, 1));
  auto too_large = error_body("VALIDATION_ERROR", "The maximum number of inputs supported in a batch is 4.");
  too_large.batch_too_large = true;
  int rejected = 0;
  h.drain([&](work_item&& w) {
    if (codec::count_inputs(w.pairs) > 4) {
      ++rejected;
      h.respond(std::move(w), 400, &too_large);
    } else {
      h.respond(std::move(w), 204);
    }
  });
  EXPECT_EQ(rejected, 1) << "one 400 is enough to cut every waiting batch";
  EXPECT_EQ(h.c.done_pairs, 40u);
  h.expect_balanced();
}

TEST(dispatcher, garbage_2xx_body_is_resent) {
  harness h;
  h.add(make_pairs(1, 1, 2));
  codec::decoded_response garbage;
  garbage.kind = codec::body_kind::invalid_json;
  h.respond(h.take(), 200, &garbage);
  EXPECT_EQ(h.c.done_pairs, 0u);
  h.now = h.d.next_due();
  auto item = h.take();
  EXPECT_TRUE(item.maybe_applied);
  h.respond(std::move(item), 200);
  EXPECT_EQ(h.c.done_pairs, 2u);
  h.expect_balanced();
}

TEST(dispatcher, unknown_object_type_stops_as_configuration_error) {
  harness h;
  h.add(make_pairs(1, 4, 1));
  h.add(make_pairs(10, 4, 1));
  auto body = error_body("", "Unable to infer object type from: widgets");
  h.respond(h.take(), 400, &body);
  EXPECT_EQ(h.d.stopped(), stop_reason::configuration);
  h.d.drain_pending();
  EXPECT_EQ(h.c.pending_pairs, 8u);
  EXPECT_EQ(h.c.failed_pairs, 0u);
  h.expect_balanced();
}

// Issue 12: the request budget is the dispatcher's decision too: take()
// hands out at most --max-requests items, then stops the run.
TEST(dispatcher, the_request_budget_stops_the_run_in_take) {
  dispatcher::options o;
  o.max_requests = 2;
  harness h(o);
  for (int i = 0; i < 3; ++i) h.add(make_pairs(1 + i, 1, 2));
  h.respond(h.take(), 204);
  h.respond(h.take(), 204);
  EXPECT_FALSE(h.d.take(h.now).has_value());
  EXPECT_EQ(h.d.stopped(), stop_reason::request_budget);
  h.d.drain_pending();
  EXPECT_EQ(h.c.done_pairs, 4u);
  EXPECT_EQ(h.c.pending_pairs, 2u);
  h.expect_balanced();
}

TEST(dispatcher, random_faults_never_lose_a_pair) {
  dispatcher::options o;
  o.max_retries = 5;
  harness h(o);
  std::mt19937_64 rng(7);
  std::size_t total = 0;
  for (int b = 0; b < 200; ++b) {
    auto p = make_pairs(1000 + b * 50, 1 + rng() % 10, 1 + rng() % 5);
    total += p.size();
    h.add(std::move(p));
  }
  auto too_large = error_body("VALIDATION_ERROR", "The maximum number of inputs supported in a batch is 3.");
  too_large.batch_too_large = true;
  auto bad = error_body("VALIDATION_ERROR", "bad");
  h.drain([&](work_item&& w) {
    switch (rng() % 8) {
      case 0: h.respond(std::move(w), 500); break;
      case 1: h.reset(std::move(w), rng() % 2 == 0); break;
      case 2: h.respond(std::move(w), 400, &bad); break;
      case 3: h.respond(std::move(w), 400, &too_large); break;
      default: h.respond(std::move(w), 204); break;
    }
  });
  EXPECT_EQ(h.c.input_pairs, total);
  EXPECT_EQ(h.d.queued(), 0u);
  EXPECT_GT(h.c.done_pairs, 0u);
  EXPECT_GT(h.c.failed_pairs, 0u);
  h.expect_balanced();
}

// Issue 11: a failure a later run may retry is marked so (the journal keeps
// it apart), and a final one is not; "1 attempts" is spelled right.
TEST(dispatcher, exhausted_retries_are_retryable_failures_and_4xx_are_final) {
  dispatcher::options o;
  o.max_retries = 0;
  harness h(o);
  h.add(make_pairs(1, 1, 2));
  h.respond(h.take(), 503);
  EXPECT_TRUE(h.retryable["failed:HTTP_503"]);
  EXPECT_NE(h.messages["failed:HTTP_503"].find("(gave up after 1 attempt)"), std::string::npos)
      << h.messages["failed:HTTP_503"];
  h.add(make_pairs(2, 1, 1));
  auto body = error_body("VALIDATION_ERROR", "bad");
  h.respond(h.take(), 400, &body);
  EXPECT_EQ(h.outcomes["failed:VALIDATION_ERROR"].size(), 1u);
  EXPECT_FALSE(h.retryable["failed:VALIDATION_ERROR"]);
  h.expect_balanced();
}

TEST(dispatcher, last_retry_says_whether_a_response_was_queued_again) {
  harness h;
  h.add(make_pairs(1, 1, 1));
  h.respond(h.take(), 503);
  EXPECT_EQ(h.d.last_retry(), 1);
  h.now = h.d.next_due();
  h.respond(h.take(), 204);
  EXPECT_EQ(h.d.last_retry(), 0);
}

// Issue 11: a mistyped host or a closed port stops the run once every
// connection has failed to connect, with every pair pending (resumable).
TEST(dispatcher, connect_errors_before_any_connection_stop_as_unreachable) {
  dispatcher::options o;
  o.unreachable_after = 3;
  harness h(o);
  for (int i = 0; i < 4; ++i) h.add(make_pairs(1 + i, 1, 2));
  attempt_result r;
  r.what = attempt_result::kind::connect_error;
  r.error = "connect to api.hubapi.con:443: Host not found (authoritative)";
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(h.d.stopped(), stop_reason::none) << i;
    h.d.on_result(h.take(), r, h.now);
  }
  EXPECT_EQ(h.d.stopped(), stop_reason::unreachable);
  EXPECT_NE(h.d.stop_message().find("Host not found"), std::string::npos) << h.d.stop_message();
  EXPECT_EQ(h.c.transport_errors, 3u);
  EXPECT_EQ(h.c.failed_pairs, 0u);
  h.d.drain_pending();
  EXPECT_EQ(h.c.pending_pairs, 8u);
  h.expect_balanced();
}

TEST(dispatcher, connect_errors_after_the_server_was_reached_are_retried) {
  dispatcher::options o;
  o.unreachable_after = 1;
  harness h(o);
  h.add(make_pairs(1, 1, 2));
  h.d.note_connected();
  attempt_result r;
  r.what = attempt_result::kind::connect_error;
  r.error = "connect to 127.0.0.1:443: Connection refused";
  h.d.on_result(h.take(), r, h.now);
  EXPECT_EQ(h.d.stopped(), stop_reason::none);
  EXPECT_EQ(h.d.last_retry(), 1);
  h.now = h.d.next_due();
  h.respond(h.take(), 204);
  EXPECT_EQ(h.c.done_pairs, 2u);
  h.expect_balanced();
}

// Issue 12: a server inventing a category per error cannot grow the counters
// (nor the report and summary) without bound; the pairs are all counted.
TEST(dispatcher, error_categories_stay_bounded) {
  harness h;
  for (int i = 0; i < 300; ++i) {
    h.add(make_pairs(1 + i, 1, 1));
    auto body = error_body("CATEGORY_" + std::to_string(i), "invented");
    h.respond(h.take(), 400, &body);
  }
  EXPECT_EQ(h.c.failed_pairs, 300u);
  EXPECT_LE(h.c.errors_by_category.size(), 65u);
  std::uint64_t sum = 0;
  for (const auto& [category, n] : h.c.errors_by_category) sum += n;
  EXPECT_EQ(sum, 300u);
  h.expect_balanced();
}

// Issue 12: what a response means comes from the operation, not from the
// dispatcher: here one whose every pair is an input (as a create is) and
// whose "already there" errors leave a pair done.
namespace {
class one_pair_per_input final : public operation {
 public:
  std::string_view name() const noexcept override { return "test"; }
  std::string_view done_word() const noexcept override { return "tested"; }
  std::string_view route(std::span<const pair_id>) const noexcept override { return "batch/test"; }
  void encode(std::span<const pair_id>, std::string&) const override {}
  bool groups_to_ids() const noexcept override { return false; }
  std::size_t inputs(std::span<const pair_id> pairs) const noexcept override { return pairs.size(); }
  std::optional<std::string_view> done_despite(std::string_view category, std::string_view) const noexcept override {
    if (category == "ALREADY_EXISTS") return "already_there";
    return std::nullopt;
  }
};
}  // namespace

TEST(dispatcher, the_operation_says_what_an_input_is_and_which_errors_leave_a_pair_done) {
  static const one_pair_per_input op;
  dispatcher::options o;
  o.max_inputs = 8;
  harness h(o, op);
  h.add(make_pairs(1, 1, 8));  // one from-id, 8 to-ids: 8 inputs for this operation
  auto too_large = error_body("VALIDATION_ERROR", "The maximum number of inputs supported in a batch is 4.");
  too_large.batch_too_large = true;
  h.respond(h.take(), 400, &too_large);
  EXPECT_EQ(h.d.max_inputs(), 4u) << "halved by the operation's count of inputs";
  auto first = h.take();
  EXPECT_EQ(first.pairs.size(), 4u);
  codec::decoded_response partial;
  partial.kind = codec::body_kind::json_object;
  partial.num_errors = 1;
  codec::error_item e;
  e.category = "ALREADY_EXISTS";
  e.from_ids = {first.pairs[0].from};
  e.to_ids = {first.pairs[0].to};
  partial.errors.push_back(e);
  h.respond(std::move(first), 207, &partial);
  h.respond(h.take(), 200);
  EXPECT_EQ(h.outcomes["done:already_there"].size(), 1u);
  EXPECT_EQ(h.c.done_pairs, 8u);
  EXPECT_EQ(h.c.failed_pairs, 0u);
  h.expect_balanced();
}

// Issue 13: one error per input of a missing record (three inputs of from-id
// 42) names pairs the first already failed; the other pair was created and
// must stay created, not be resent and failed with the first error.
TEST(dispatcher, repeated_errors_about_one_record_leave_the_rest_created) {
  dispatcher::options o;
  harness h(o, create_operation());
  h.add({{42, 9001}, {42, 9002}, {42, 9003}, {500, 9004}});
  codec::decoded_response partial;
  partial.kind = codec::body_kind::json_object;
  partial.num_errors = 3;
  for (int k = 0; k < 3; ++k) {
    codec::error_item e;
    e.category = "VALIDATION_ERROR";
    e.message = "No contact with id 42 exists";
    e.from_ids = {42};
    partial.errors.push_back(e);
  }
  h.respond(h.take(), 207, &partial);
  EXPECT_EQ(h.c.failed_pairs, 3u);
  EXPECT_EQ(h.c.done_pairs, 1u);
  EXPECT_EQ(h.d.queued(), 0u) << "nothing resent";
  EXPECT_EQ(h.c.split_batches, 0u);
  h.expect_balanced();
}
