// The feeder: reads every input into the job (engine/feed.cpp).
#pragma once

#include "engine/job_state.hpp"

#include <boost/asio/awaitable.hpp>

namespace hubbatch::engine {

// Reads cfg.input, then cfg.extra_inputs in order (line numbers restart at
// each file), and flushes what is left in the group window; sets
// reading_done. Throws std::runtime_error when an input cannot be read.
boost::asio::awaitable<void> feed_input(job_state& j);

}  // namespace hubbatch::engine
