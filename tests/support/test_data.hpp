// Test data shared by the integration and CLI tests: HubSpot-shaped pairs,
// scratch directories, CSV files.
#pragma once

#include "io/pair.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

namespace hubbatch::test {

// Distinct pairs shaped like HubSpot's: ~4 to-ids per from-id (1 to 7), shuffled.
inline std::vector<pair_id> make_pairs(std::size_t n, std::uint64_t seed,
                                       std::uint64_t id_base = 10'000'000'000ULL) {
  std::mt19937_64 rng(seed);
  std::vector<pair_id> v;
  v.reserve(n);
  while (v.size() < n) {
    std::uint64_t from = id_base + rng() % 1'000'000'000ULL;
    for (int k = 1 + static_cast<int>(rng() % 7); k > 0 && v.size() < n; --k)
      v.push_back({from, 1'000'000'000ULL + rng() % 1'000'000'000ULL});
  }
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  std::shuffle(v.begin(), v.end(), rng);
  return v;
}

inline std::vector<pair_id> sorted(std::vector<pair_id> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// A scratch directory removed with everything in it at scope exit.
class temp_dir {
 public:
  temp_dir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("hubbatch-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

// Writes pairs as CSV (with a from_id,to_id header unless told not to); returns the path.
inline std::string write_csv(const std::string& path, const std::vector<pair_id>& pairs, bool header = true) {
  std::ofstream out(path);
  if (header) out << "from_id,to_id\n";
  for (const auto& p : pairs) out << p.from << ',' << p.to << '\n';
  return path;
}

}  // namespace hubbatch::test
