// Helpers shared by the hardening integration tests (TLS failures, hostile
// servers, hostile input, secrets): temp dirs, job configs with short
// deadlines, reading the failures file back.
#pragma once

#include "engine/job.hpp"
#include "io/pair.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace hubbatch::test {

class scratch_dir {
 public:
  scratch_dir() {
    path_ = std::filesystem::temp_directory_path() /
            ("hubbatch-harden-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(path_);
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
  static inline int counter_ = 0;
};

inline std::string write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  return path;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A job with deadlines short enough that a hostile peer costs seconds, one
// connection, at most `retries` resends, against `base_url`.
inline engine::archive_config short_job(const std::string& base_url, const std::string& input, int retries = 1) {
  engine::archive_config cfg;
  cfg.from_type = "contacts";
  cfg.to_type = "companies";
  cfg.input = input;
  cfg.base_url = base_url;
  cfg.rate = engine::rate_mode::unlimited;
  cfg.connections = 1;
  cfg.max_retries = retries;
  cfg.seed = 7;
  cfg.connect_timeout = std::chrono::seconds(3);
  cfg.handshake_timeout = std::chrono::seconds(3);
  cfg.request_timeout = std::chrono::seconds(2);
  return cfg;
}

inline engine::job_options quiet_options(const std::string& ca_pem, std::string token = "pat-na1-test-token") {
  engine::job_options o;
  o.token = std::move(token);
  o.ca_pem = ca_pem;
  o.handle_signals = false;
  o.quiet = true;
  return o;
}

inline void expect_balanced(const engine::job_result& r) {
  const auto& c = r.totals;
  EXPECT_EQ(r.invariant_error, "");
  EXPECT_EQ(c.input_pairs, c.done_pairs + c.failed_pairs + c.rejected_pairs + c.duplicate_pairs + c.pending_pairs);
}

}  // namespace hubbatch::test
