#include "sandbox/handler.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace hubbatch;
using namespace hubbatch::sandbox;

namespace {

struct handler_rig {
  config cfg;
  association_store store;
  std::unique_ptr<request_handler> handler;
  session_scratch scratch;
  std::string out;
  std::string body;
  clock_reading now{1'000'000'000, 1'780'000'000'000};

  explicit handler_rig(config c) : cfg(std::move(c)) {
    std::vector<pair_id> seed{{1, 2}};
    store.add(*resolve_object_type("contacts"), *resolve_object_type("companies"), seed);
    store.finalize();
    handler = std::make_unique<request_handler>(cfg, store, now);
  }

  response_plan run(std::string_view method, std::string_view target, std::string b, bool loopback = true) {
    body = std::move(b);
    request_in in;
    in.method = method;
    in.target = target;
    in.authorization = "Bearer t";
    in.body = &body;
    in.loopback = loopback;
    in.now = now;
    return handler->handle(in, scratch, out);
  }
};

}  // namespace

TEST(sandbox_handler, internal_routes_answer_only_loopback_peers) {
  handler_rig rig{config{}};
  rig.run("GET", "/_sandbox/stats", "", false);
  EXPECT_TRUE(rig.out.starts_with("HTTP/1.1 404 Not Found\r\n")) << rig.out;
  rig.run("GET", "/_sandbox/stats", "", true);
  EXPECT_TRUE(rig.out.starts_with("HTTP/1.1 200 OK\r\n")) << rig.out;
  EXPECT_NE(rig.out.find("\"requests\":1"), std::string::npos) << rig.out;  // the refused one counted, not itself
}

TEST(sandbox_handler, window_uses_the_injected_clock) {
  config c;
  c.rate = rate_spec{2, std::chrono::milliseconds(1000)};
  handler_rig rig{c};
  const std::string body = R"({"inputs":[{"from":{"id":"5"},"to":[{"id":"6"}]}]})";
  EXPECT_EQ(rig.run("POST", "/crm/v4/associations/contacts/companies/batch/archive", body).outcome, sandbox_errc::ok);
  EXPECT_NE(rig.out.find("X-HubSpot-RateLimit-Remaining: 1\r\n"), std::string::npos) << rig.out;
  rig.run("POST", "/crm/v4/associations/contacts/companies/batch/archive", body);
  EXPECT_EQ(rig.run("POST", "/crm/v4/associations/contacts/companies/batch/archive", body).outcome,
            sandbox_errc::rate_limited);
  rig.now.mono_ns += 1'000'000'001;  // the window moves on
  EXPECT_EQ(rig.run("POST", "/crm/v4/associations/contacts/companies/batch/archive", body).outcome, sandbox_errc::ok);
  auto st = rig.handler->snapshot(rig.now);
  EXPECT_EQ(st.rate_limited, 1u);
  EXPECT_EQ(st.max_requests_in_window, 2u);
  EXPECT_EQ(st.requests_per_second, (std::vector<std::uint64_t>{2, 1}));
}

TEST(sandbox_handler, outcome_names_are_distinct) {
  EXPECT_STREQ(to_string(sandbox_errc::fault_reset_after_apply), "injected reset after apply");
  EXPECT_STRNE(to_string(sandbox_errc::rate_limited), to_string(sandbox_errc::daily_limited));
}

namespace {

const std::string one_archive = R"({"inputs":[{"from":{"id":"5"},"to":[{"id":"6"}]}]})";
constexpr const char* v4_archive_route = "/crm/v4/associations/contacts/companies/batch/archive";

std::string body_of(const std::string& out) { return out.substr(out.find("\r\n\r\n") + 4); }
std::string header_of(const std::string& out, const std::string& name) {
  auto at = out.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "<none>";
  at += name.size() + 4;
  return out.substr(at, out.find("\r\n", at) - at);
}

}  // namespace

// Issue 15: --capacity on the injected clock: N accepted per trailing second
// per token on the batch routes, then 429 SECONDLY (no Retry-After, the usual
// rate headers), answers slower from 75% of N, GET .../labels not counted.
TEST(issue_15, capacity_answers_429_secondly_and_slows_near_it) {
  config c;
  c.rate = rate_spec{100, std::chrono::milliseconds(10'000)};
  c.exempt_batch = true;
  c.capacity = 4;
  c.retry_after_s = 3;  // never on SECONDLY answers
  handler_rig rig{c};
  const std::int64_t t0 = rig.now.mono_ns;
  std::vector<std::int64_t> delays;
  for (int i = 0; i < 4; ++i) {
    auto plan = rig.run("POST", v4_archive_route, one_archive);
    ASSERT_EQ(plan.outcome, sandbox_errc::ok) << i;
    delays.push_back(plan.delay.count());
    EXPECT_EQ(header_of(rig.out, "X-HubSpot-RateLimit-Remaining"), "100") << "exempt: the window does not fall";
    rig.now.mono_ns += 100'000'000;  // 0, 100, 200, 300 ms
  }
  EXPECT_EQ(delays, (std::vector<std::int64_t>{0, 0, 0, 200}));          // u = 1/4, 2/4, 3/4, 4/4
  rig.run("GET", "/crm/v4/associations/contacts/companies/labels", "");  // not a batch route: not counted
  EXPECT_TRUE(rig.out.starts_with("HTTP/1.1 200 ")) << rig.out;

  rig.now.mono_ns = t0 + 999'999'999;  // the first still inside the trailing second
  auto refused = rig.run("POST", v4_archive_route, one_archive);
  EXPECT_EQ(refused.outcome, sandbox_errc::secondly_limited);
  EXPECT_EQ(refused.delay.count(), 0);
  EXPECT_TRUE(rig.out.starts_with("HTTP/1.1 429 ")) << rig.out;
  const std::string id = header_of(rig.out, "x-hubspot-correlation-id");
  EXPECT_EQ(
      body_of(rig.out),
      R"({"status":"error","message":"You have reached your secondly limit.","errorType":"RATE_LIMIT","correlationId":")" +
          id + R"(","policyName":"SECONDLY","groupName":"publicapi:private_app-api-calls-secondly:62515"})");
  EXPECT_EQ(header_of(rig.out, "Retry-After"), "<none>");
  EXPECT_EQ(header_of(rig.out, "X-HubSpot-RateLimit-Max"), "100");
  EXPECT_EQ(header_of(rig.out, "X-HubSpot-RateLimit-Remaining"), "100");

  rig.now.mono_ns = t0 + 1'000'000'000;  // the first has left: 3 in the second, this one the 4th
  auto again = rig.run("POST", v4_archive_route, one_archive);
  EXPECT_EQ(again.outcome, sandbox_errc::ok);
  EXPECT_EQ(again.delay.count(), 200);

  auto st = rig.handler->snapshot(rig.now);
  EXPECT_EQ(st.rate_limited, 1u);
  EXPECT_EQ(st.rate_limited_secondly, 1u);
  EXPECT_EQ(st.by_status[429], 1u);
  EXPECT_EQ(st.max_requests_in_second, 4u);
  EXPECT_EQ(st.max_requests_in_window, 0u);  // exempt: nothing counted in the window
  EXPECT_EQ(st.accepted, 6u);                // 5 archives and the labels GET; not the 429
  auto json = st.to_json();
  EXPECT_NE(
      json.find(
          R"("rate_limited":1,"rate_limited_daily":0,"rate_limited_secondly":1,"max_requests_in_window":0,"max_requests_in_second":4,)"),
      std::string::npos)
      << json;
  EXPECT_STREQ(to_string(sandbox_errc::secondly_limited), "per-second capacity limit");
}

// Issue 15: without --exempt-batch the window is checked first and still
// counts; the capacity is per token; a slow fault adds to the capacity delay.
TEST(issue_15, capacity_works_beside_the_window_and_adds_to_a_slow_fault) {
  config c;
  c.rate = rate_spec{3, std::chrono::milliseconds(10'000)};
  c.capacity = 2;
  c.capacity_delay = std::chrono::milliseconds(50);
  c.fault_slow = 1;
  c.fault_slow_delay = std::chrono::milliseconds(7);
  handler_rig rig{c};
  EXPECT_EQ(rig.run("POST", v4_archive_route, one_archive).delay.count(), 7);  // u = 1/2: no capacity delay
  auto second = rig.run("POST", v4_archive_route, one_archive);
  EXPECT_EQ(second.delay.count(), 57);  // at capacity: 50 + the slow fault's 7
  EXPECT_EQ(header_of(rig.out, "X-HubSpot-RateLimit-Remaining"), "1");
  EXPECT_EQ(rig.run("POST", v4_archive_route, one_archive).outcome, sandbox_errc::secondly_limited);
  EXPECT_EQ(header_of(rig.out, "X-HubSpot-RateLimit-Remaining"), "1") << "a refused request is not counted";
  rig.now.mono_ns += 1'000'000'000;
  EXPECT_EQ(rig.run("POST", v4_archive_route, one_archive).outcome, sandbox_errc::ok);
  EXPECT_EQ(rig.run("POST", v4_archive_route, one_archive).outcome, sandbox_errc::rate_limited);  // window first
  auto st = rig.handler->snapshot(rig.now);
  EXPECT_EQ(st.rate_limited, 2u);
  EXPECT_EQ(st.rate_limited_secondly, 1u);
  EXPECT_EQ(st.max_requests_in_window, 3u);
  EXPECT_EQ(st.max_requests_in_second, 2u);
}
