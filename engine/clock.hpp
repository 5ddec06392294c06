// Time for the engine. Pacing and backoff take `now` as a parameter (no
// hidden clock reads), so tests drive them with a fake clock.
#pragma once

#include <chrono>

namespace hubbatch::engine {

using clock = std::chrono::steady_clock;
using time_point = clock::time_point;
using duration = clock::duration;
using std::chrono::milliseconds;

}  // namespace hubbatch::engine
