// Issue 7: the sandbox bounds what one client can make it hold: request
// body size (413), head size (431), header count (431) and open
// connections per client address (closed at accept). A benchmark pointed
// at it cannot turn it into a memory bomb.
#include "sandbox/config.hpp"

#include "sandbox/helpers.hpp"
#include "sandbox/server.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

using namespace hubbatch;
using namespace hubbatch::test;

namespace {

// "a<i>" (built with append: GCC 12's -Wrestrict misfires on "a" + to_string).
std::string field_name(int i) {
  std::string name = "a";
  name += std::to_string(i);
  return name;
}

std::string one_pair() { return archive_body({{101, 9001}}); }

sandbox::config seeded() {
  auto c = local_config();
  c.seeds.push_back({"contacts", "companies", "", {{101, 9001}, {101, 9002}}});
  return c;
}

}  // namespace

TEST(sandbox_caps, defaults_are_bounded) {
  sandbox::config c;
  EXPECT_EQ(c.max_body_bytes, 8u << 20);
  EXPECT_EQ(c.max_header_bytes, 16u << 10);
  EXPECT_EQ(c.max_header_count, 100u);
  EXPECT_EQ(c.max_connections_per_client, 1024u);
  c.max_header_count = 7;
  EXPECT_NE(sandbox::validate_config(c), "");
}

TEST(sandbox_caps, a_head_over_the_byte_limit_is_431_and_closes) {
  auto c = seeded();
  c.max_header_bytes = 2048;
  sandbox_fixture f(c);
  auto r = f.client.send("POST", v4_archive, one_pair(),
                         {{"Authorization", "Bearer t"}, {"X-Big", std::string(4096, 'x')}});
  EXPECT_EQ(r.response.status, 431);
  EXPECT_EQ(r.response.header("Connection"), "close");
  EXPECT_EQ(f.client.post(v4_archive, one_pair()).status, 204);
}

TEST(sandbox_caps, too_many_header_fields_are_431_even_within_the_byte_limit) {
  auto c = seeded();
  c.max_header_count = 20;
  sandbox_fixture f(c);
  header_list many = {{"Authorization", "Bearer t"}};
  for (int i = 0; i < 30; ++i) many.push_back({field_name(i), "b"});  // ~250 bytes in all
  auto r = f.client.send("POST", v4_archive, one_pair(), many);
  EXPECT_EQ(r.response.status, 431);
  EXPECT_EQ(f.sb->remaining_pairs("contacts", "companies").size(), 2u) << "nothing applied";
  header_list few = {{"Authorization", "Bearer t"}};
  for (int i = 0; i < 10; ++i) few.push_back({field_name(i), "b"});
  EXPECT_EQ(f.client.send("POST", v4_archive, one_pair(), few).response.status, 204);
}

TEST(sandbox_caps, connections_per_client_are_capped_and_freed_on_close) {
  auto c = seeded();
  c.max_connections_per_client = 3;
  sandbox_fixture f(c);  // its client has not connected yet
  std::vector<std::unique_ptr<https_client>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<https_client>("127.0.0.1", f.sb->port(), f.sb->ca_pem(),
                                                     std::chrono::seconds(5)));
    EXPECT_EQ(clients.back()->send("GET", "/_sandbox/stats").response.status, 200) << i;
  }
  // The fourth is closed at accept: the handshake fails, nothing is served.
  https_client fourth("127.0.0.1", f.sb->port(), f.sb->ca_pem(), std::chrono::seconds(5));
  auto refused = fourth.send("GET", "/_sandbox/stats");
  EXPECT_TRUE(refused.error) << "status " << refused.response.status;
  EXPECT_EQ(fourth.connections_opened(), 0u);
  EXPECT_TRUE(eventually([&] { return f.sb->stats().connections_refused >= 1; }));
  // The three keep working; closing one frees a slot (polled: the server
  // notices the close asynchronously).
  EXPECT_EQ(clients[0]->send("GET", "/_sandbox/stats").response.status, 200);
  clients[0]->close();
  EXPECT_TRUE(eventually([&] {
    https_client again("127.0.0.1", f.sb->port(), f.sb->ca_pem(), std::chrono::seconds(5));
    return again.send("GET", "/_sandbox/stats").response.status == 200;
  }));
  auto json = clients[1]->send("GET", "/_sandbox/stats").response.body;
  EXPECT_NE(json.find("\"connections_refused\":"), std::string::npos) << json;
}

TEST(sandbox_caps, connections_are_not_capped_when_the_cap_is_zero) {
  auto c = seeded();
  c.max_connections_per_client = 0;
  sandbox_fixture f(c);
  std::vector<std::unique_ptr<https_client>> clients;
  for (int i = 0; i < 40; ++i) {
    clients.push_back(std::make_unique<https_client>("127.0.0.1", f.sb->port(), f.sb->ca_pem()));
    EXPECT_EQ(clients.back()->send("GET", "/_sandbox/stats").response.status, 200) << i;
  }
  EXPECT_EQ(f.sb->stats().connections_refused, 0u);
}
