// Progress of a running archive job, from the one hook the job offers
// (engine::job_options::on_progress):
//   - stderr is a terminal: one status line redrawn in place at most 10 times
//     a second (pairs done of total, pairs/s, ETA, 429s, retries, failures);
//   - otherwise: a plain log line every interval;
//   - --quiet: neither;
// and, with --metrics-file, the counters in Prometheus format every interval
// and at the end.
#pragma once

#include "cli/metrics.hpp"
#include "engine/clock.hpp"
#include "engine/job.hpp"

#include <string>

namespace hubbatch::cli {

struct progress_settings {
  bool quiet = false;
  bool tty = false;                                     // stderr is a terminal
  engine::duration interval = std::chrono::seconds(10); // plain lines and metrics writes
  std::string metrics_path;                             // "" = no metrics file
  std::string operation = "archive", done_word = "archived";  // metrics: info label, <done_word>_pairs_total
  std::string from_type, to_type;                       // metrics labels
  std::string unit = "pairs";                           // what the input lists: pairs, or records (export)
};

// The status text shared by the live line and the plain log line, e.g.
// "1,200 of ~3,000 pairs (40.0%), 240 pairs/s, ETA 8s, 429s 0, retries 1, failed 0".
// `unit`: what the input lists ("pairs", "records").
std::string progress_text(const engine::job_progress& p, std::string_view unit = "pairs");

class progress_reporter {
 public:
  explicit progress_reporter(progress_settings s) : s_(std::move(s)) {}
  // Whether the job needs to call tick() at all, and how often.
  bool wanted() const { return !(s_.quiet && s_.metrics_path.empty()); }
  engine::duration tick_interval() const;
  void tick(const engine::job_progress& p);
  // The run ended: clear the status line, write the final metrics.
  void finish(const engine::counters& c, double elapsed_s, int exit_code);

 private:
  void write_metrics(const engine::counters& c, double elapsed_s, bool running, std::optional<int> exit_code);

  progress_settings s_;
  double last_line_s_ = 0;
  double last_metrics_s_ = 0;
};

}  // namespace hubbatch::cli
