#include "sandbox/handler.hpp"

#include <gtest/gtest.h>

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
