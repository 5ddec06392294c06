// What `hubbatch archive`, `create` (`restore`), `archive-labels`, `export`
// and `verify` share between their flag registration (cli/job_cmd.cpp) and
// their run (cli/job_run.cpp): the parsed flags, and the parsers of the
// flag forms both use.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "engine/config.hpp"
#include "engine/operation.hpp"

namespace hubbatch::cli {

struct job_flags {
  job_kind kind = job_kind::archive;
  std::string name = "archive";  // the subcommand
  engine::archive_config cfg;
  std::string label;                     // --label CATEGORY:TYPEID or NAME ("" = none)
  bool include_unlabeled = false;        // archive-labels: the unlabelled type may be removed
  std::string backup;                    // archive --backup FILE ("" = none)
  bool verify = false;                   // archive --verify
  bool all = false;                      // archive --all: the input lists records; remove all they have
  std::vector<std::string> inputs{"-"};  // --input (repeatable): cfg.input, then cfg.extra_inputs
  std::string format;                    // "" = from the file name (export: the output's format, csv or ndjson)
  std::string input_format;              // export: --input-format ("" = from the file name)
  std::string columns;                   // --columns NAMES: "" = not named (parsed into cfg.columns)
  std::string delimiter;                 // --delimiter CHAR: "" = a comma (checked into cfg.delimiter)
  std::string rate = "auto";
  std::string batch_size = "auto";       // --batch-size auto | N (reads: N only)
  std::string max_rate = "100/s";        // --max-rate N/s: the adaptive pacer's ceiling
  std::string token_env = "HUBSPOT_ACCESS_TOKEN";
  std::string token_file;
  bool sandbox = false;
  bool quiet = false;
  std::string sandbox_rate = "190/10s";
  bool no_journal = false;
  std::string drain_timeout = "30s";
  std::string deadline;
  std::string max_retry_after = "5m";
  std::string throttle_timeout = "10m";
  // Operating (README "Operating hubbatch").
  std::string proxy;                      // --proxy URL | direct; "" = HTTPS_PROXY / NO_PROXY from the environment
  bool plan = false;                      // --plan: read and validate, send nothing, print the plan
  std::string plan_rate;                  // --plan-rate N/Ws: the rate to plan with when --rate is auto
  std::uint64_t daily_budget = 0;         // --daily-budget N: requests per day, for the plan's share
  std::string metrics_file;               // --metrics-file PATH: Prometheus text, every interval and at the end
  std::string progress_interval = "10s";  // plain progress lines and metrics writes
  std::string log_format = "text";        // text | json
  std::string log_level = "info";         // trace | debug | info | warn | error | off
  engine::duration progress_every = std::chrono::seconds(10);  // parsed progress_interval
};

// "90" (seconds), "500ms", "30s", "15m", "2h"; throws CLI::ValidationError
// naming `flag`.
engine::duration parse_duration(const std::string& flag, const std::string& text);
// "auto", "0", "N/Ws", "N/Wms", "P%" into cfg's rate fields; throws
// CLI::ValidationError naming `flag` (std::logic_error from a number).
void parse_rate(const std::string& text, engine::archive_config& cfg, const std::string& flag = "--rate");

// "auto" or N (1-10000) into cfg.batch_size / batch_size_auto; reads take
// N only (HubSpot documents their cap). Throws CLI::ValidationError.
void parse_batch_size(const std::string& text, engine::archive_config& cfg, job_kind kind);

// The operation a command runs.
const engine::operation& operation_of(job_kind k);

// Runs the command once its flags parsed; the process's exit code.
int run_job_command(job_flags& f);

}  // namespace hubbatch::cli
