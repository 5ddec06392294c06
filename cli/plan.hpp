// `hubbatch archive --plan`: read and validate the input exactly as a run
// would (same parser, same grouper with the same window and caps), send
// nothing, and print what the run would do and how long it would take.
#pragma once

#include "engine/config.hpp"
#include "engine/operation.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hubbatch::cli {

struct plan_figures {
  std::uint64_t input_lines = 0;     // data lines (valid pairs + rejected lines), as counters::input_pairs
  std::uint64_t pairs = 0;           // valid pairs, duplicates included
  std::uint64_t rejected = 0;        // bad lines
  std::uint64_t duplicates = 0;      // pairs already waiting in the group window (sent once)
  std::uint64_t distinct_from_ids = 0;
  std::uint64_t requests = 0;        // batches the grouper forms (before any split a server may force)
  std::map<std::string, std::uint64_t> rejected_by_reason;
  std::string columns;  // columns named by a header or --columns, as report_context::input_columns ("" = not named)
  std::string hint;     // the parser's separator hint ("" = none)
};

// Reads every input through the parser and the grouper. Throws
// std::runtime_error when an input cannot be read. Prints the first ten
// rejected lines as log warnings unless `quiet`.
plan_figures plan_inputs(const engine::archive_config& cfg, const engine::operation& op,
                         const std::vector<std::string>& inputs, bool quiet);

struct plan_rate {
  int max = 100;                                  // requests per window; 0 = unpaced
  engine::duration window = std::chrono::seconds(10);
  std::string source;                             // how it was chosen, for the printout
};

// The fixed rate, --plan-rate, or the auto fallback (100/10s, times the share).
plan_rate rate_for_plan(const engine::archive_config& cfg, const std::optional<engine::archive_config>& plan_rate_cfg);

// The printout (stdout): fixed shape, one figure a line (plus "columns" and
// "hint" after "rejected" when there are any).
std::string plan_text(const plan_figures& f, const plan_rate& rate, std::uint64_t daily_budget,
                      const std::vector<std::string>& inputs, const engine::archive_config& cfg);

}  // namespace hubbatch::cli
