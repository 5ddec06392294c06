// Placeholder until the sandbox lands (issue 2).
#include "cli/commands.hpp"
#include <CLI/CLI.hpp>
namespace hubbatch::cli {
void add_sandbox_command(CLI::App& app, command_runner* run) {
  auto* cmd = app.add_subcommand("sandbox", "Run a local HTTPS server that behaves like HubSpot");
  cmd->callback([run] { *run = [] { return 0; }; });
}
}  // namespace hubbatch::cli
