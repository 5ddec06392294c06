#include "engine/backoff.hpp"

#include <algorithm>

namespace hubbatch::engine {

namespace {

__extension__ using uint128 = unsigned __int128;

// Uniform in [0, bound] from 64 random bits (multiply-high: no division, and
// a bias below 2^-64 * bound, i.e. none that matters).
std::int64_t uniform_upto(std::int64_t bound, std::uint64_t random_bits) noexcept {
  if (bound <= 0) return 0;
  const auto span = static_cast<uint128>(bound) + 1;
  return static_cast<std::int64_t>((static_cast<uint128>(random_bits) * span) >> 64);
}

}  // namespace

duration backoff_delay(const backoff_policy& policy, int attempt, std::optional<duration> retry_after,
                       std::uint64_t random_bits) noexcept {
  if (retry_after) {
    const duration wait = std::clamp(*retry_after, duration::zero(), std::max(policy.retry_after_cap, duration::zero()));
    const std::int64_t jitter = uniform_upto(wait.count() / 10, random_bits);
    // Saturate instead of overflowing with an absurd retry_after_cap.
    if (wait.count() > duration::max().count() - jitter) return duration::max();
    return wait + duration(jitter);
  }
  const std::int64_t base = std::max<std::int64_t>(policy.base.count(), 0);
  const std::int64_t cap = std::max<std::int64_t>(policy.cap.count(), 0);
  // ceiling = min(cap, base * 2^(attempt-1)) without overflow: the shift is
  // taken only when base << shift stays at or below cap.
  const int shift = std::max(attempt, 1) - 1;
  std::int64_t ceiling = cap;
  if (shift < 62 && base <= (cap >> shift)) ceiling = base << shift;
  return duration(uniform_upto(ceiling, random_bits));
}

}  // namespace hubbatch::engine
