// The counters in Prometheus text exposition format (0.0.4), for
// node_exporter's textfile collector: every name starts with hubbatch_,
// counters end in _total, each family has # HELP and # TYPE lines, and the
// per-status / per-category maps become labelled samples.
#pragma once

#include "engine/counters.hpp"

#include <optional>
#include <string>

namespace hubbatch::cli {

struct metrics_context {
  std::string operation = "archive", done_word = "archived";  // hubbatch_info's label; <done_word>_pairs_total
  std::string from_type, to_type;
  double elapsed_s = 0;
  bool running = true;               // false in the final write
  std::optional<int> exit_code;      // set in the final write
  double unix_time_s = 0;            // when written (hubbatch_last_update_timestamp_seconds)
};

std::string prometheus_text(const engine::counters& c, const metrics_context& ctx);

// Writes `text` to `path` atomically (temporary file + rename), so a
// collector never reads half a file.
void write_metrics_file(const std::string& path, const std::string& text);

}  // namespace hubbatch::cli
