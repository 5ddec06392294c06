// The world of a test that runs the hubbatch binary: a scratch directory with
// pairs.csv (from_id,to_id header) and ca.pem, the CA of a background sandbox
// seeded with the same pairs.
#pragma once

#include "io/files.hpp"
#include "io/pair.hpp"
#include "sandbox/config.hpp"
#include "sandbox/server.hpp"
#include "support/test_data.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace hubbatch::test {

// Pairs (100, 5000), (101, 5001), ...: one to-id per from-id.
inline std::vector<pair_id> sequential_pairs(std::size_t n) {
  std::vector<pair_id> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back({100 + i, 5000 + i});
  return v;
}

struct cli_sandbox {
  temp_dir dir;
  std::vector<pair_id> pairs;
  std::unique_ptr<sandbox::background_sandbox> sb;

  // `sc` configures the sandbox; it listens on 127.0.0.1:0, and its default
  // rate limit is lifted unless the test set another one.
  cli_sandbox(std::vector<pair_id> seeded, sandbox::config sc) : pairs(std::move(seeded)) {
    write_csv(file("pairs.csv"), pairs);
    sc.listen_host = "127.0.0.1";
    sc.listen_port = 0;
    if (sc.rate.max == 190) sc.rate.max = 0;
    sandbox::seed_spec seed;
    seed.pairs = pairs;
    sc.seeds.push_back(seed);
    sb = std::make_unique<sandbox::background_sandbox>(sc);
    io::write_file_atomic(file("ca.pem"), sb->ca_pem());
  }
  std::string file(const std::string& name) const { return dir.file(name); }
};

}  // namespace hubbatch::test
