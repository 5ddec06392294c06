// Subcommand registration. Each subcommand lives in its own cli/*.cpp: it
// builds a Config from flags, validates it and hands main a runner that
// calls hubbatch_core and returns the process exit code.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace hubbatch::cli {

// Exit codes shared by every subcommand (documented in README.md).
enum exit_code : int {
  exit_ok = 0,           // every pair done (archived, created) / server stopped cleanly
  exit_partial = 1,      // some pairs failed or were rejected
  exit_usage = 2,        // bad flag, unreadable input, invalid configuration
  exit_pending = 3,      // stopped with pairs pending (daily limit, interrupt)
  exit_auth = 4,         // authentication or permission refused
};

// A parsed subcommand, ready to run; returns the process exit code. It may
// throw std::exception for startup failures (unreadable file, port in use),
// which main reports and maps to exit_usage.
using command_runner = std::function<int()>;

// Registers `hubbatch sandbox`; when its flags parse, sets *run.
void add_sandbox_command(CLI::App& app, command_runner* run);
// The commands that run a job (cli/job_cmd.cpp), one per operation.
enum class job_kind { archive, create, archive_labels, export_records, verify_pairs };
// Registers `hubbatch archive`, `create` (also named `restore`),
// `archive-labels`, `export` or `verify`; when its flags parse, sets *run.
void add_job_command(CLI::App& app, command_runner* run, job_kind kind);

}  // namespace hubbatch::cli
