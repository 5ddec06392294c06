// Placeholder until archive lands (issue 3).
#include "cli/commands.hpp"
#include <CLI/CLI.hpp>
namespace hubbatch::cli {
void add_archive_command(CLI::App& app, command_runner* run) {
  auto* cmd = app.add_subcommand("archive", "Archive association pairs");
  cmd->callback([run] { *run = [] { return 0; }; });
}
}  // namespace hubbatch::cli
