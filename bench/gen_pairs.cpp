// gen-pairs: writes N association pairs shaped like HubSpot's, for demos and
// benchmarks. Deterministic for a given seed.
//
//   gen-pairs --pairs N [--seed S] [--per-from K] [--format csv|tsv|ndjson] [--no-header] [--keyed] > pairs.csv
//
// From-ids and to-ids are 11-12 digit numbers (like real record ids), each
// from-id has 1..2K-1 to-ids (K on average, default 4), and the lines are
// shuffled so that grouping has work to do. The pairs are drawn and shuffled
// in memory (16 bytes a pair).
//
// --keyed: the same shape (K = 4), but each pair is a function of (S, its
// from-id's number) (sandbox/generated_pairs.hpp): `hubbatch sandbox
// --seed-generated N:S` holds exactly these pairs without reading the file,
// and the file is written in a pseudo-random order without holding the pairs
// (for inputs of 100 million pairs and more).
#include "sandbox/generated_pairs.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

struct pair_id {
  std::uint64_t from, to;
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: gen-pairs --pairs N [--seed S] [--per-from K] [--format csv|tsv|ndjson] [--no-header] "
               "[--keyed]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t n = 0, seed = 1, per_from = 4;
  std::string format = "csv";
  bool header = true, keyed = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--pairs") n = std::strtoull(next().c_str(), nullptr, 10);
    else if (a == "--seed") seed = std::strtoull(next().c_str(), nullptr, 10);
    else if (a == "--per-from") per_from = std::strtoull(next().c_str(), nullptr, 10);
    else if (a == "--format") format = next();
    else if (a == "--no-header") header = false;
    else if (a == "--keyed") keyed = true;
    else usage();
  }
  if (n == 0 || per_from == 0 || (format != "csv" && format != "tsv" && format != "ndjson")) usage();
  if (keyed && (per_from != 4 || n > hubbatch::sandbox::generated_pairs::max_pairs)) usage();

  static char buf[1 << 16];
  std::setvbuf(stdout, buf, _IOFBF, sizeof buf);
  char sep = format == "tsv" ? '\t' : ',';
  if (header && format != "ndjson") std::printf("from_id%cto_id\n", sep);
  auto write = [&](std::uint64_t from, std::uint64_t to) {
    if (format == "ndjson")
      std::printf("{\"from\":\"%llu\",\"to\":\"%llu\"}\n", static_cast<unsigned long long>(from),
                  static_cast<unsigned long long>(to));
    else
      std::printf("%llu%c%llu\n", static_cast<unsigned long long>(from), sep, static_cast<unsigned long long>(to));
  };
  if (keyed) {
    hubbatch::sandbox::generated_pairs(n, seed).each_in_file_order([&](hubbatch::pair_id p) { write(p.from, p.to); });
    return std::fflush(stdout) == 0 ? 0 : 1;
  }

  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::uint64_t> from_id(10'000'000'000ULL, 999'999'999'999ULL);
  std::uniform_int_distribution<std::uint64_t> to_id(1'000'000'000ULL, 99'999'999'999ULL);
  std::uniform_int_distribution<std::uint64_t> fanout(1, 2 * per_from - 1);
  std::vector<pair_id> pairs;
  pairs.reserve(n);
  while (pairs.size() < n) {
    std::uint64_t f = from_id(rng);
    for (std::uint64_t k = fanout(rng); k > 0 && pairs.size() < n; --k) pairs.push_back({f, to_id(rng)});
  }
  std::shuffle(pairs.begin(), pairs.end(), rng);
  for (const auto& p : pairs) write(p.from, p.to);
  return std::fflush(stdout) == 0 ? 0 : 1;
}
