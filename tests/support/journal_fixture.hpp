// What the journal's reader and writer tests share: a scratch path and a job identity.
#pragma once

#include "engine/journal.hpp"

#include <filesystem>
#include <string>

#include <unistd.h>

namespace hubbatch::test {

// A path under the temp directory, removed (whatever it became) before and after.
struct journal_path {
  std::string path;
  explicit journal_path(const std::string& name)
      : path((std::filesystem::temp_directory_path() /
              ("hubbatch-journal-" + std::to_string(::getpid()) + "-" + name))
                 .string()) {
    std::filesystem::remove_all(path);
  }
  ~journal_path() { std::filesystem::remove_all(path); }
};

inline engine::job_identity sample_identity() {
  engine::job_identity id;
  id.input_size = 12345;
  id.input_mtime_ns = 1700000000123456789;
  id.head_hash = 0xdeadbeefcafef00dULL;
  id.from_type = "contacts";
  id.to_type = "companies";
  id.api_version = "v4";
  return id;
}

}  // namespace hubbatch::test
