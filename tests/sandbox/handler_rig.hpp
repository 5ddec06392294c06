// A sandbox request_handler over a contacts→companies store, driven without
// sockets: the rig of the route tests (api_writes, api_read, read_roundtrip).
#pragma once

#include "sandbox/handler.hpp"
#include "sandbox/helpers.hpp"

#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

namespace hubbatch::test {

// A scratch file named after the process: ctest runs the tests of a file at
// once, each in its own process, and a shared path was rewritten under
// another test's reader.
inline std::string scratch_file(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + std::to_string(::getpid()) + "-" + name;
  std::ofstream(path) << text;
  return path;
}

struct handler_rig {
  sandbox::config cfg;
  sandbox::association_store store;
  std::unique_ptr<sandbox::request_handler> handler;
  sandbox::session_scratch scratch;
  std::string out, body;
  sandbox::clock_reading now{1'000'000'000, 1'780'000'000'000};

  // `seed`: contacts→companies pairs (and cfg.seed_generated's, when set).
  // `labels`: the --labels file's text when cfg names none. The rate limit
  // is off unless cfg sets another than the default.
  handler_rig(sandbox::config c, const std::vector<pair_id>& seed, const std::string& labels = {})
      : cfg(std::move(c)) {
    if (cfg.rate.max == sandbox::config{}.rate.max) cfg.rate.max = 0;
    if (cfg.labels_file.empty() && !labels.empty()) cfg.labels_file = scratch_file("labels.csv", labels);
    store.add(*sandbox::resolve_object_type("contacts"), *sandbox::resolve_object_type("companies"), seed);
    if (const auto& g = cfg.seed_generated; g.pairs > 0)
      store.add_generated(*sandbox::resolve_object_type(g.from_type), *sandbox::resolve_object_type(g.to_type), g.pairs,
                          g.seed);
    store.finalize();
    handler = std::make_unique<sandbox::request_handler>(cfg, store, now);
  }

  // The status of the answer (0 when the handler reset the connection).
  int run(std::string_view method, const std::string& target, std::string b) {
    body = std::move(b);
    sandbox::request_in in;
    in.method = method;
    in.target = target;
    in.authorization = "Bearer t";
    in.body = &body;
    in.loopback = true;
    in.now = now;
    auto plan = handler->handle(in, scratch, out);
    if (plan.reset) return 0;
    return std::stoi(out.substr(9, 3));
  }
  int post(const std::string& target, std::string b) { return run("POST", target, std::move(b)); }
  std::string response_body() const { return out.substr(out.find("\r\n\r\n") + 4); }
  // The response body, timestamps and the correlation id normalised (helpers.hpp).
  std::string answer() const {
    http_response r;
    r.body = response_body();
    auto id_at = out.find("x-hubspot-correlation-id: ");
    r.headers.emplace_back("x-hubspot-correlation-id", out.substr(id_at + 26, 36));
    return normalized(r);
  }
  // GET /_sandbox/pairs?QUERY's body.
  std::string pairs(const std::string& query) {
    run("GET", "/_sandbox/pairs?" + query, "");
    return response_body();
  }
};

}  // namespace hubbatch::test
