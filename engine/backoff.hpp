// Retry delays: a pure function of (attempt, Retry-After, random bits), so
// tests check it exactly and the engine stays free of hidden state.
#pragma once

#include "engine/clock.hpp"

#include <cstdint>
#include <optional>

namespace hubbatch::engine {

struct backoff_policy {
  duration base = std::chrono::milliseconds(250);  // first retry's ceiling
  duration cap = std::chrono::seconds(30);         // no delay above this (Retry-After excepted)
  duration retry_after_cap = std::chrono::hours(25);  // a last bound: the dispatcher stops the run for any
                                                      // Retry-After above --max-retry-after first
};

// Delay before retry number `attempt` (1 = first retry).
// Without Retry-After: "full jitter", uniform in [0, min(cap, base * 2^(attempt-1))],
// drawn from `random_bits` (uniform 64-bit). With Retry-After: that delay
// (capped at retry_after_cap) plus up to 10% jitter, so clients told the
// same instant do not return in lockstep.
duration backoff_delay(const backoff_policy& policy, int attempt, std::optional<duration> retry_after,
                       std::uint64_t random_bits) noexcept;

}  // namespace hubbatch::engine
