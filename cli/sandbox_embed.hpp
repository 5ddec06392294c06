// `archive --sandbox`: a sandbox on its own thread, seeded with the input's
// pairs, so a demo or dry run exercises the full TLS path without HubSpot.
#pragma once

#include "engine/config.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace hubbatch::cli {

class embedded_sandbox {
 public:
  virtual ~embedded_sandbox() = default;
  virtual std::uint16_t port() const = 0;
  virtual const std::string& ca_pem() const = 0;
  virtual const std::string& token() const = 0;
  virtual std::uint64_t seeded_pairs() const = 0;
  // A few lines on what the sandbox saw (requests, statuses, pairs left).
  virtual std::string summary() const = 0;
};

// Starts a sandbox rate-limited by `rate` ("N/Ws" or "0"); with
// `seed_input`, it reads cfg.input (a file; stdin cannot be read twice) and
// holds those pairs for cfg.from_type/cfg.to_type, else it starts empty.
// Throws std::runtime_error on failure.
std::unique_ptr<embedded_sandbox> start_embedded_sandbox(const engine::archive_config& cfg, const std::string& rate,
                                                         bool seed_input = true);

}  // namespace hubbatch::cli
