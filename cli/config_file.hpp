// `--config FILE` (TOML) for every subcommand. Each top-level key is a flag
// of the subcommand without its dashes (`batch-size = 50`, `rate = "190/10s"`,
// `quiet = true`, `seed = ["a.csv", "b.csv"]`); a flag given on the command
// line wins over the file. Unknown keys, tables, wrong value types and values
// the flag refuses are errors naming the file, line and key (exit 2).
//
// CLI11 2.1's own config support only works on the main app, reports no line
// numbers and converts every value to text, so the file is parsed with
// toml++ and its values are fed into the subcommand's options from the
// --config option's callback. That callback runs before the callbacks of
// the options declared after it, so add_config_option() must be the first
// option a subcommand declares.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace hubbatch::cli {

// Declares `--config FILE` on `cmd` (call it before any other option).
void add_config_option(CLI::App& cmd);

// Applies the TOML file at `path` to the options of `cmd` that were not given
// on the command line. Throws CLI::ConfigError "PATH:LINE: ..." on any problem.
void apply_config_file(CLI::App& cmd, const std::string& path);

}  // namespace hubbatch::cli
