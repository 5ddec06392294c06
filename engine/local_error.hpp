// A local file could not be written (a full disk, a quota) while the job
// runs: the run stops like any other stop (drained, reported, pairs pending,
// resumable, stop_reason local_io) instead of ending without a report.
#pragma once

#include <stdexcept>

namespace hubbatch::engine {

struct local_write_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace hubbatch::engine
