// The HubSpot sandbox server: HTTPS (HTTP/1.1 keep-alive over TLS) on one
// io_context and one thread, one coroutine per connection. What it answers
// is in sandbox/handler.hpp; configuration in sandbox/config.hpp.
//
// Two ways to run it:
//   * run_sandbox(): in the calling thread until SIGINT/SIGTERM (the CLI).
//   * background_sandbox: on its own thread, for tests and `archive
//     --sandbox`. Example:
//
//       sandbox::config cfg;
//       cfg.listen_port = 0;                       // any free port
//       cfg.seeds.push_back({"contacts", "companies", "", {{101, 9001}, {101, 9002}}});
//       sandbox::background_sandbox sb(cfg);       // bound, seeded and serving
//       // ... client connects to 127.0.0.1:sb.port(), trusting sb.ca_pem() ...
//       auto left = sb.remaining_pairs("contacts", "companies");
//       auto st = sb.stats();
//
// Accessors other than port()/ca_pem() run on the server thread (posted and
// waited for), so they are thread-safe and see a consistent state.
#pragma once

#include "io/pair.hpp"
#include "sandbox/clock.hpp"
#include "sandbox/config.hpp"
#include "sandbox/stats.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hubbatch::sandbox {

class background_sandbox {
 public:
  // Validates cfg, seeds the store, sets up TLS (generating a test CA unless
  // cert_file is set; writes it to cfg.write_ca when set), binds and starts
  // serving on a new thread. Throws std::runtime_error / std::invalid_argument
  // on any failure (invalid config, port in use, unreadable seed).
  // `clock` (tests) gives the time of each request, of stats() and of the
  // start; empty = the real clocks. It is called on the server thread. Only
  // what the handler decides follows it (rate windows, --capacity, the daily
  // budget, requests_per_second): delays and deadlines run on real timers.
  explicit background_sandbox(config cfg, clock_source clock = {});
  // Stops accepting, drops open connections and joins the thread.
  ~background_sandbox();
  background_sandbox(const background_sandbox&) = delete;
  background_sandbox& operator=(const background_sandbox&) = delete;

  std::uint16_t port() const noexcept;
  const std::string& host() const noexcept;    // cfg.listen_host
  std::string base_url() const;                // "https://HOST:PORT"
  // PEM of the CA clients must trust (the generated CA, or with --cert the
  // contents of cert_file).
  const std::string& ca_pem() const noexcept;

  stats_snapshot stats() const;
  // Remaining associations oriented from → to, sorted. Throws
  // std::invalid_argument for an unknown object type.
  std::vector<pair_id> remaining_pairs(std::string_view from_type, std::string_view to_type) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Runs a sandbox in the calling thread until SIGINT or SIGTERM, then returns
// 0. `on_listening(url)` is called once bound, before serving, with
// "https://HOST:PORT" (the CLI prints "listening on " + url). Throws on
// startup failure like background_sandbox.
int run_sandbox(const config& cfg, const std::function<void(const std::string& url)>& on_listening);

}  // namespace hubbatch::sandbox
