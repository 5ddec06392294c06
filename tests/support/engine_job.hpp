// An engine job against an in-process sandbox over TLS on 127.0.0.1: the
// sandbox's config seeded with pairs, the job's config and options for it.
#pragma once

#include "engine/config.hpp"
#include "engine/job.hpp"
#include "sandbox/config.hpp"
#include "sandbox/server.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace hubbatch::test {

inline sandbox::config sandbox_with(const std::vector<pair_id>& seeded, const std::string& rate = "0") {
  sandbox::config c;
  c.listen_host = "127.0.0.1";
  c.listen_port = 0;
  c.rate = *sandbox::parse_rate(rate);
  c.tokens = {"pat-test-token"};
  c.fault_seed = 12345;
  sandbox::seed_spec s;
  s.from_type = "contacts";
  s.to_type = "companies";
  s.pairs = seeded;
  c.seeds.push_back(std::move(s));
  return c;
}

// Every input pair ended in exactly one state, and the counters agree.
inline void expect_books_balance(const engine::job_result& r) {
  const auto& c = r.totals;
  EXPECT_EQ(r.invariant_error, "");
  EXPECT_EQ(c.input_pairs, c.done_pairs + c.failed_pairs + c.rejected_pairs + c.duplicate_pairs + c.pending_pairs);
}

inline engine::archive_config job_for(const sandbox::background_sandbox& sb, const std::string& input) {
  engine::archive_config cfg;
  cfg.from_type = "contacts";
  cfg.to_type = "companies";
  cfg.input = input;
  cfg.base_url = sb.base_url();
  cfg.rate = engine::rate_mode::unlimited;
  cfg.connections = 4;
  cfg.seed = 99;
  return cfg;
}

inline engine::job_options options_for(const sandbox::background_sandbox& sb, std::string token = "pat-test-token") {
  engine::job_options o;
  o.token = std::move(token);
  o.ca_pem = sb.ca_pem();
  o.handle_signals = false;
  o.quiet = true;
  return o;
}

}  // namespace hubbatch::test
