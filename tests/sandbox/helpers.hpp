// Shared helpers for the sandbox tests.
#pragma once

#include "io/pair.hpp"
#include "sandbox/config.hpp"
#include "sandbox/server.hpp"
#include "support/https_client.hpp"

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace hubbatch::test {

inline constexpr const char* v4_archive = "/crm/v4/associations/contacts/companies/batch/archive";

// A config listening on 127.0.0.1:0 with no seeds.
inline sandbox::config local_config() {
  sandbox::config c;
  c.listen_host = "127.0.0.1";
  c.listen_port = 0;
  return c;
}

// {"inputs":[{"from":{"id":"F"},"to":[{"id":"T"},...]},...]} grouping runs of equal from.
inline std::string archive_body(const std::vector<pair_id>& pairs) {
  std::string s = "{\"inputs\":[";
  for (std::size_t i = 0; i < pairs.size();) {
    if (i) s += ',';
    s += "{\"from\":{\"id\":\"" + std::to_string(pairs[i].from) + "\"},\"to\":[";
    std::size_t j = i;
    for (; j < pairs.size() && pairs[j].from == pairs[i].from; ++j) {
      if (j != i) s += ',';
      s += "{\"id\":\"" + std::to_string(pairs[j].to) + "\"}";
    }
    s += "]}";
    i = j;
  }
  return s + "]}";
}

// Body with the correlation id replaced by CID and ISO timestamps by TS, so
// whole bodies can be compared exactly.
inline std::string normalized(const http_response& r) {
  std::string b = r.body;
  auto id = r.header("x-hubspot-correlation-id");
  if (!id.empty())
    for (auto p = b.find(id); p != std::string::npos; p = b.find(id)) b.replace(p, id.size(), "CID");
  static const std::regex ts(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  return std::regex_replace(b, ts, "TS");
}

inline bool is_uuid_v7(const std::string& s) {
  static const std::regex re("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  return std::regex_match(s, re);
}

// A running sandbox plus a client connected to it.
struct sandbox_fixture {
  explicit sandbox_fixture(sandbox::config c)
      : sb(std::make_unique<sandbox::background_sandbox>(std::move(c))),
        client("127.0.0.1", sb->port(), sb->ca_pem()) {}
  https_client make_client() const { return https_client("127.0.0.1", sb->port(), sb->ca_pem()); }
  std::unique_ptr<sandbox::background_sandbox> sb;
  https_client client;
};

// Polls `pred` every 10 ms until it holds or `limit` passes; returns its last value.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace hubbatch::test
