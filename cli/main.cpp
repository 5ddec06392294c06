// hubbatch: parse flags, run one subcommand, return its exit code.
#include "cli/commands.hpp"
#include "cli/logging.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  CLI::App app{"hubbatch: create and archive HubSpot CRM associations in bulk, and a local HubSpot sandbox to test against"};
  app.set_version_flag("--version", std::string("hubbatch ") + HUBBATCH_VERSION);
  app.require_subcommand(1, 1);
  hubbatch::cli::command_runner run;
  hubbatch::cli::add_sandbox_command(app, &run);
  hubbatch::cli::add_job_command(app, &run, hubbatch::cli::job_kind::archive);
  hubbatch::cli::add_job_command(app, &run, hubbatch::cli::job_kind::create);
  hubbatch::cli::add_job_command(app, &run, hubbatch::cli::job_kind::archive_labels);
  hubbatch::cli::add_job_command(app, &run, hubbatch::cli::job_kind::export_records);
  hubbatch::cli::add_job_command(app, &run, hubbatch::cli::job_kind::verify_pairs);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "hubbatch: %s\nRun 'hubbatch --help' or 'hubbatch SUBCOMMAND --help' for usage.\n",
                 e.what());
    return hubbatch::cli::exit_usage;
  }
  if (!run) return hubbatch::cli::exit_usage;
  try {
    return run();
  } catch (const std::exception& e) {
    hubbatch::cli::print_stderr(hubbatch::cli::notice_level::error, "hubbatch: error: ", e.what());
    return hubbatch::cli::exit_usage;
  }
}
