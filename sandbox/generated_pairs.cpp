#include "sandbox/generated_pairs.hpp"

#include <stdexcept>
#include <string>

namespace hubbatch::sandbox {
namespace {

constexpr std::uint64_t from_lo = 10'000'000'000ULL;  // from-ids in [from_lo, from_lo + from_span)
constexpr std::uint64_t from_span = 990'000'000'000ULL;
constexpr std::uint64_t to_lo = 1'000'000'000ULL;  // to-ids in [to_lo, to_lo + to_span)
constexpr std::uint64_t to_span = 99'000'000'000ULL;
constexpr unsigned from_half_bits = 20;  // the from-id permutation works on 40-bit numbers (2^40 > from_span)
constexpr int rounds = 4;

// A Feistel network over numbers of 2 * half_bits bits: one-to-one whatever
// the round function, and inverted by running the rounds backwards.
std::uint64_t feistel(std::uint64_t x, unsigned half_bits, const std::uint64_t (&keys)[rounds]) noexcept {
  const std::uint64_t mask = (std::uint64_t{1} << half_bits) - 1;
  std::uint64_t l = x >> half_bits, r = x & mask;
  for (int i = 0; i < rounds; ++i) {
    const std::uint64_t t = l ^ (mix_id(r ^ keys[i]) & mask);
    l = r;
    r = t;
  }
  return l << half_bits | r;
}

std::uint64_t feistel_inverse(std::uint64_t x, unsigned half_bits, const std::uint64_t (&keys)[rounds]) noexcept {
  const std::uint64_t mask = (std::uint64_t{1} << half_bits) - 1;
  std::uint64_t l = x >> half_bits, r = x & mask;
  for (int i = rounds - 1; i >= 0; --i) {
    const std::uint64_t t = r ^ (mix_id(l ^ keys[i]) & mask);
    r = l;
    l = t;
  }
  return l << half_bits | r;
}

std::uint64_t key(std::uint64_t seed, std::uint64_t salt) noexcept {
  return mix_id(seed * 0x9e3779b97f4a7c15ULL + salt * 0xd1b54a32d192ed03ULL + 1);
}

std::uint32_t raw_fanout(std::uint64_t g, std::uint64_t k) noexcept {
  return 1 + static_cast<std::uint32_t>(mix_id(g ^ k) % 7);
}

}  // namespace

generated_pairs::generated_pairs(std::uint64_t pairs, std::uint64_t seed) : pairs_(pairs), seed_(seed) {
  if (pairs == 0 || pairs > max_pairs)
    throw std::invalid_argument("generated pairs: the count must be within 1.." + std::to_string(max_pairs));
  for (std::uint64_t i = 0; i < rounds; ++i) keys_[i] = key(seed, i);
  fanout_key_ = key(seed, 10);
  to_key_ = key(seed, 11);
  order_key_ = key(seed, 12);
  std::uint64_t sum = 0;
  for (std::uint64_t g = 0;; ++g) {
    const std::uint32_t f = raw_fanout(g, fanout_key_);
    if (sum + f >= pairs) {
      groups_ = g + 1;
      last_fanout_ = static_cast<std::uint32_t>(pairs - sum);
      break;
    }
    sum += f;
  }
}

std::uint32_t generated_pairs::fanout(std::uint64_t g) const noexcept {
  return g + 1 == groups_ ? last_fanout_ : raw_fanout(g, fanout_key_);
}

std::uint64_t generated_pairs::from_id(std::uint64_t g) const noexcept {
  // Cycle walking: g < groups_ <= from_span, and the walk stays on g's cycle,
  // so it meets a number below from_span (one step in 1.11 on average).
  std::uint64_t y = g;
  do y = feistel(y, from_half_bits, keys_);
  while (y >= from_span);
  return from_lo + y;
}

std::uint64_t generated_pairs::group_of(std::uint64_t id) const noexcept {
  if (id < from_lo || id - from_lo >= from_span) return npos;
  std::uint64_t y = id - from_lo;
  do y = feistel_inverse(y, from_half_bits, keys_);
  while (y >= from_span);
  return y < groups_ ? y : npos;
}

std::uint32_t generated_pairs::to_ids(std::uint64_t g, std::uint64_t (&out)[slots_per_from]) const noexcept {
  const std::uint32_t n = fanout(g);
  const std::uint64_t h = mix_id(g ^ to_key_);
  // Candidates from a hash stream; one equal to an earlier to-id of g is
  // skipped, so the pairs of a from-id are distinct.
  std::uint32_t have = 0;
  for (std::uint64_t i = 0; have < n; ++i) {
    const std::uint64_t t = to_lo + mix_id(h + i * 0x9e3779b97f4a7c15ULL) % to_span;
    bool seen = false;
    for (std::uint32_t k = 0; k < have; ++k) seen |= out[k] == t;
    if (!seen) out[have++] = t;
  }
  return n;
}

std::uint64_t generated_pairs::slot_of(pair_id p) const noexcept {
  const std::uint64_t g = group_of(p.from);
  if (g == npos) return npos;
  std::uint64_t to[slots_per_from];
  const std::uint32_t n = to_ids(g, to);
  for (std::uint32_t j = 0; j < n; ++j)
    if (to[j] == p.to) return g * slots_per_from + j;
  return npos;
}

void generated_pairs::each(const std::function<void(std::uint64_t, pair_id)>& f) const {
  std::uint64_t to[slots_per_from];
  for (std::uint64_t g = 0; g < groups_; ++g) {
    const std::uint64_t from = from_id(g);
    const std::uint32_t n = to_ids(g, to);
    for (std::uint32_t j = 0; j < n; ++j) f(g * slots_per_from + j, pair_id{from, to[j]});
  }
}

void generated_pairs::each_in_file_order(const std::function<void(pair_id)>& f) const {
  // A permutation of [0, 2^(2h)) restricted to the slots (below slots()):
  // every slot once, in a pseudo-random order; an empty slot (j >= fanout)
  // is skipped.
  unsigned half = 1;
  while ((std::uint64_t{1} << (2 * half)) < slots()) ++half;
  std::uint64_t keys[rounds];
  for (std::uint64_t i = 0; i < rounds; ++i) keys[i] = mix_id(order_key_ + i);
  std::uint64_t to[slots_per_from];
  for (std::uint64_t k = 0; k < (std::uint64_t{1} << (2 * half)); ++k) {
    const std::uint64_t s = feistel(k, half, keys);
    if (s >= slots()) continue;
    const std::uint64_t g = s / slots_per_from;
    const std::uint32_t j = static_cast<std::uint32_t>(s % slots_per_from);
    if (j >= fanout(g)) continue;
    to_ids(g, to);
    f(pair_id{from_id(g), to[j]});
  }
}

}  // namespace hubbatch::sandbox
