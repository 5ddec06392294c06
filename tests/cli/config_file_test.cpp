// --config FILE: every file in configs/ loads, flags win over the file,
// unknown keys / wrong types / refused values name the file, line and key.
#include "cli/config_file.hpp"

#include "cli/commands.hpp"
#include "support/process.hpp"

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

using namespace hubbatch;
namespace fs = std::filesystem;

namespace {

struct cli_app {
  CLI::App app{"hubbatch"};
  cli::command_runner run;
  cli_app() {
    app.require_subcommand(1, 1);
    cli::add_sandbox_command(app, &run);
    cli::add_job_command(app, &run, cli::job_kind::archive);
  }
  // Parses; returns "" or the error text.
  std::string parse(std::vector<std::string> args) {
    args.insert(args.begin(), "hubbatch");
    std::vector<const char*> argv;
    for (auto& a : args) argv.push_back(a.c_str());
    try {
      app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::ParseError& e) {
      return std::string(e.get_name()) + ": " + e.what();
    }
    return {};
  }
  template <class T>
  T value(const std::string& sub, const std::string& flag) {
    return app.get_subcommand(sub)->get_option(flag)->as<T>();
  }
};

std::string temp_file(const std::string& name, const std::string& text) {
  fs::path dir = fs::temp_directory_path() / ("hubbatch-config-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / name) << text;
  return (dir / name).string();
}

}  // namespace

TEST(config_file, every_example_in_configs_loads) {
  int seen = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(HUBBATCH_SOURCE_DIR) / "configs")) {
    if (entry.path().extension() != ".toml") continue;
    ++seen;
    cli_app a;
    std::string name = entry.path().filename().string();
    std::string err = name.starts_with("sandbox")
                          ? a.parse({"sandbox", "--config", entry.path().string()})
                          : a.parse({"archive", "--config", entry.path().string(), "--from-type", "contacts",
                                     "--to-type", "companies", "--input", "pairs.csv"});
    EXPECT_EQ(err, "") << name;
    EXPECT_TRUE(a.run) << name;
  }
  EXPECT_GE(seen, 6);
}

TEST(config_file, rate_profiles_hold_the_documented_rates) {
  for (auto [file, rate] : {std::pair{"free-starter.toml", "100/10s"}, {"professional.toml", "190/10s"},
                            {"enterprise-api-pack.toml", "250/10s"}, {"oauth-app.toml", "110/10s"}}) {
    cli_app a;
    ASSERT_EQ(a.parse({"archive", "--config", std::string(HUBBATCH_SOURCE_DIR) + "/configs/" + file, "--from-type",
                       "contacts", "--to-type", "companies"}),
              "");
    EXPECT_EQ(a.value<std::string>("archive", "--rate"), rate) << file;
  }
}

TEST(config_file, command_line_flags_win_over_the_file) {
  std::string path = temp_file("precedence.toml",
                               "batch-size = 50\nrate = \"190/10s\"\nquiet = true\nfrom-type = \"deals\"\n"
                               "to-type = \"line_items\"\nconnections = 3\n");
  cli_app a;
  ASSERT_EQ(a.parse({"archive", "--batch-size", "7", "--config", path, "--to-type", "companies"}), "");
  EXPECT_EQ(a.value<std::size_t>("archive", "--batch-size"), 7u);        // flag wins
  EXPECT_EQ(a.value<int>("archive", "--connections"), 3);                // from the file
  EXPECT_EQ(a.value<std::string>("archive", "--rate"), "190/10s");       // from the file
  EXPECT_EQ(a.value<std::string>("archive", "--from-type"), "deals");    // a required flag from the file
  EXPECT_EQ(a.value<std::string>("archive", "--to-type"), "companies");  // flag wins
  EXPECT_TRUE(a.value<bool>("archive", "--quiet"));
}

TEST(config_file, sandbox_keys_including_arrays) {
  std::string path = temp_file("sandbox.toml",
                               "rate = \"5/1s\"\ndaily = 77\nseed = [\"a.csv\", \"b.csv\"]\nmissing-scopes = true\n"
                               "fault-5xx = 0.25\n");
  cli_app a;
  ASSERT_EQ(a.parse({"sandbox", "--config", path, "--daily", "9"}), "");
  EXPECT_EQ(a.value<std::string>("sandbox", "--rate"), "5/1s");
  EXPECT_EQ(a.value<std::uint32_t>("sandbox", "--daily"), 9u);
  EXPECT_EQ(a.value<std::vector<std::string>>("sandbox", "--seed"), (std::vector<std::string>{"a.csv", "b.csv"}));
  EXPECT_TRUE(a.value<bool>("sandbox", "--missing-scopes"));
  EXPECT_DOUBLE_EQ(a.value<double>("sandbox", "--fault-5xx"), 0.25);
}

// Issue 15: --max-inputs takes N or OP:N,...; the config key takes both an
// integer (as before) and the list as a string.
TEST(issue_15, sandbox_max_inputs_key_takes_an_integer_or_a_list) {
  for (const char* text : {"max-inputs = 250\n", "max-inputs = \"250\"\n"}) {
    cli_app a;
    ASSERT_EQ(a.parse({"sandbox", "--config", temp_file("mi.toml", text)}), "") << text;
    EXPECT_EQ(a.value<std::string>("sandbox", "--max-inputs"), "250") << text;
  }
  cli_app list;
  ASSERT_EQ(list.parse({"sandbox", "--config", temp_file("mi.toml", "max-inputs = \"archive:100,create:2000\"\n")}),
            "");
  EXPECT_EQ(list.value<std::string>("sandbox", "--max-inputs"), "archive:100,create:2000");
  cli_app bad;
  auto err = bad.parse({"sandbox", "--config", temp_file("mi.toml", "max-inputs = 1.5\n")});
  EXPECT_NE(err.find("expected an integer or a string, got a number"), std::string::npos) << err;
  cli_app unknown;
  err = unknown.parse({"sandbox", "--config", temp_file("mi.toml", "max-inputs = \"update:5\"\n")});
  EXPECT_NE(err.find("--max-inputs: unknown operation 'update'"), std::string::npos) << err;
}

TEST(config_file, errors_name_the_file_line_and_key) {
  struct bad_case {
    std::string text, expect_line, expect;
  };
  std::vector<bad_case> cases = {
      {"rate = \"auto\"\n\nbatchsize = 50\n", ":3:", "unknown key"},
      {"batch-size = \"fifty\"\n", ":1:", "expected auto or N from 1 to 10000"},
      {"batch-size = 1.5\n", ":1:", "expected an integer or a string, got a number"},
      {"max-retries = \"5\"\n", ":1:", "expected an integer, got a string"},
      {"# comment\nquiet = 1\n", ":2:", "expected true or false"},
      {"rate = 190\n", ":1:", "expected a string, got an integer"},
      {"connections = 0\n", ":1:", "connections"},          // CLI11's range check, with the line
      {"[archive]\nrate = \"auto\"\n", ":1:", "unknown key"},  // no tables
      {"rate = \"auto\"\nrate = \"0\"\n", ":2:", ""},          // TOML syntax: redefinition
      {"config = \"other.toml\"\n", ":1:", "unknown key"},
  };
  for (const auto& c : cases) {
    std::string path = temp_file("bad.toml", c.text);
    cli_app a;
    std::string err = a.parse({"archive", "--config", path, "--from-type", "contacts", "--to-type", "companies"});
    EXPECT_NE(err.find("bad.toml" + c.expect_line), std::string::npos) << c.text << " -> " << err;
    EXPECT_NE(err.find(c.expect), std::string::npos) << c.text << " -> " << err;
  }
  cli_app a;
  EXPECT_NE(a.parse({"archive", "--config", "/nonexistent/x.toml", "--from-type", "a", "--to-type", "b"}), "");
}

TEST(config_file, binary_exits_2_on_a_bad_config) {
  std::string path = temp_file("bin-bad.toml", "rate = \"190/10s\"\nbogus-key = 1\n");
  std::string err = temp_file("bin-bad.err", "");
  test::process_spec s;
  s.args = {HUBBATCH_BINARY, "archive", "--config", path, "--from-type", "contacts", "--to-type", "companies",
            "--input", "pairs.csv"};
  s.stderr_path = err;
  EXPECT_EQ(test::run(s), 2);
  std::string text = test::slurp(err);
  EXPECT_NE(text.find("bin-bad.toml:2: key 'bogus-key': unknown key"), std::string::npos) << text;
}
