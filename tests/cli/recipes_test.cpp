// Regression, issue 11 item 7: the shipped recipes (configs/*.toml and the
// README's cron lines) run as written, night after night. Each night has a
// new dated input; a recipe that pins one report or journal path for every
// night, or relies on a token cron does not have, stops the second night (or
// the first) with exit 2.
#include "sandbox/config.hpp"
#include "support/cli_sandbox.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>
#include <sys/stat.h>

using namespace hubbatch;
namespace fs = std::filesystem;

namespace {

const fs::path source_dir = HUBBATCH_SOURCE_DIR;
const std::vector<std::string> nights = {"2026-11-27", "2026-11-28"};

// Night n's export: its own pairs (from-ids 1000n + i), so that night 2's
// input differs from night 1's in size and content, as a real export does.
std::vector<pair_id> night_pairs(std::size_t n, std::size_t count = 40) {
  std::vector<pair_id> v;
  for (std::size_t i = 0; i < count; ++i) v.push_back({1000 * (n + 1) + i / 2, 50000 + i});
  return v;
}

std::vector<pair_id> all_nights() {
  std::vector<pair_id> v;
  for (std::size_t n = 0; n < nights.size(); ++n)
    for (auto p : night_pairs(n)) v.push_back(p);
  return v;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

std::string write_text(const std::string& path, const std::string& text, mode_t mode = 0644) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
  return path;
}

sandbox::config seeded_for_deals_too() {
  sandbox::config sc;
  sandbox::seed_spec deals;
  deals.from_type = "deals";
  deals.to_type = "line_items";
  deals.pairs = all_nights();
  sc.seeds.push_back(deals);
  return sc;
}

// A sandbox seeded with every night's pairs (contacts -> companies and
// deals -> line_items), a private token file (as the README says to write
// it, trailing newline included) and no token in the environment: cron has
// none. bin/ holds what a recipe's shell line runs: `date` answering the
// night's date, `hubbatch` the built binary pointed at the sandbox.
struct nights_fixture : test::cli_sandbox {
  std::string root, bin;
  nights_fixture() : cli_sandbox(all_nights(), seeded_for_deals_too()), root(dir.path().string()), bin(root + "/bin") {
    write_text(file("token"), "pat-na1-test\n", 0600);
    write_text(bin + "/date", "#!/bin/sh\necho \"$HUBBATCH_TEST_NIGHT\"\n", 0755);
    write_text(bin + "/hubbatch",
               "#!/bin/sh\nsub=$1; shift\nexec '" + std::string(HUBBATCH_BINARY) + "' \"$sub\" --base-url " +
                   sb->base_url() + " --ca-file '" + file("ca.pem") + "' \"$@\"\n",
               0755);
  }
  // `command` run by /bin/sh in the test's directory on the given night.
  test::process_spec shell(const std::string& command, const std::string& night, const std::string& log) const {
    auto s = spec({"/bin/sh", "-c", "cd '" + root + "' && " + command}, log);
    s.env = {{"PATH", bin + ":" + std::getenv("PATH")}, {"HUBBATCH_TEST_NIGHT", night}};
    return s;
  }
  test::process_spec spec(std::vector<std::string> args, const std::string& log) const {
    test::process_spec s;
    s.args = std::move(args);
    s.unset_env = {"HUBSPOT_ACCESS_TOKEN", "HUBSPOT_OAUTH_TOKEN", "HTTPS_PROXY", "https_proxy"};
    s.stdout_path = file(log + ".out");
    s.stderr_path = file(log + ".err");
    return s;
  }
  std::string output(const std::string& log) const {
    return test::slurp(file(log + ".out")) + test::slurp(file(log + ".err"));
  }
  // The report of a run that settled every pair of night n: all archived,
  // nothing failed, rejected or pending.
  void expect_complete_report(const std::string& path, std::size_t n) const {
    ASSERT_TRUE(fs::exists(path)) << path;
    std::string r = test::slurp(path);
    const std::size_t count = night_pairs(n).size();
    EXPECT_NE(r.find("\"archived_pairs\": " + std::to_string(count)), std::string::npos) << r;
    for (const char* zero : {"\"failed_pairs\": 0", "\"rejected_pairs\": 0", "\"pending_pairs\": 0", "\"exit_code\": 0"})
      EXPECT_NE(r.find(zero), std::string::npos) << zero << " in " << r;
    EXPECT_NE(r.find("\"invariant_ok\": true"), std::string::npos) << r;
  }
  void expect_store_empty(const std::string& from = "contacts", const std::string& to = "companies") const {
    EXPECT_TRUE(sb->remaining_pairs(from, to).empty()) << from << " -> " << to << " pairs left in the sandbox";
  }
};

// The ```cron blocks of the README: each block is one crontab, its commands
// (schedule fields removed, cron's \% unescaped) in order.
std::vector<std::vector<std::string>> readme_cron_blocks() {
  std::ifstream in(source_dir / "README.md");
  std::vector<std::vector<std::string>> blocks;
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line == "```cron") {
      inside = true;
      blocks.emplace_back();
    } else if (inside && line.starts_with("```")) {
      inside = false;
    } else if (inside && !line.empty() && line[0] != '#') {
      std::istringstream fields(line);
      std::string skip;
      for (int i = 0; i < 5; ++i) fields >> skip;
      std::string command;
      std::getline(fields, command);
      blocks.back().push_back(replace_all(command, "\\%", "%"));
    }
  }
  return blocks;
}

// The command line a config's header comment shows: from its first comment
// line starting with "hubbatch archive", with its continuation lines.
std::string header_command(const fs::path& config) {
  std::ifstream in(config);
  std::string line, command;
  while (std::getline(in, line) && line.starts_with("#")) {
    std::string text = line.substr(line.find_first_not_of("# ") == std::string::npos ? line.size()
                                                                                     : line.find_first_not_of("# "));
    if (command.empty() && !text.starts_with("hubbatch archive")) continue;
    if (!text.ends_with("\\")) return command + text;
    command += text.substr(0, text.size() - 1);
  }
  return command;
}

// The value of `flag` in a command line, or "".
std::string flag_value(const std::string& command, const std::string& flag) {
  std::istringstream words(command);
  for (std::string w; words >> w;)
    if (w == flag && words >> w) return w;
  return {};
}

}  // namespace

// configs/nightly-cleanup.toml, unchanged, on two nights with the dated
// command line its header shows: each night exits 0 with a complete report,
// and each night's job has its own journal beside its report.
TEST(recipes, nightly_cleanup_config_runs_two_nights_in_a_row) {
  nights_fixture f;
  for (std::size_t n = 0; n < nights.size(); ++n) {
    const std::string& d = nights[n];
    test::write_csv(f.file("pairs-" + d + ".csv"), night_pairs(n));
    auto s = f.spec({HUBBATCH_BINARY, "archive", "--config", (source_dir / "configs/nightly-cleanup.toml").string(),
                     "--input", f.file("pairs-" + d + ".csv"), "--report", f.file("report-" + d + ".json"),
                     "--failures", f.file("failures-" + d + ".csv"), "--resume",
                     // The test's world instead of /etc/hubbatch, HubSpot and node_exporter's directory:
                     "--token-file", f.file("token"), "--base-url", f.sb->base_url(), "--ca-file", f.file("ca.pem"),
                     "--metrics-file", f.file("hubbatch.prom")},
                    "night" + std::to_string(n));
    ASSERT_EQ(test::run(s), 0) << "night " << d << ":\n" << f.output("night" + std::to_string(n));
    f.expect_complete_report(f.file("report-" + d + ".json"), n);
    EXPECT_TRUE(fs::exists(f.file("report-" + d + ".json.journal"))) << "the night's journal beside its report";
    EXPECT_NE(test::slurp(f.file("hubbatch.prom")).find("hubbatch_exit_code 0"), std::string::npos);
  }
  f.expect_store_empty();
}

// The README's cron lines, as written, on two nights: `date` answers the
// night's date, `hubbatch` is the built binary pointed at the sandbox, and
// the paths the lines name (/srv/cleanup, /var/lib/hubbatch, /etc/hubbatch)
// are directories of the test. The config file the second crontab names is
// configs/nightly-cleanup.toml with the same paths moved. No token in the
// environment, as under cron.
TEST(recipes, readme_cron_lines_run_two_nights_in_a_row) {
  auto blocks = readme_cron_blocks();
  ASSERT_GE(blocks.size(), 1u) << "the README's ```cron blocks";
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    SCOPED_TRACE("cron block " + std::to_string(b + 1));
    ASSERT_FALSE(blocks[b].empty());
    nights_fixture f;
    const std::string& root = f.root;
    const auto moved = [&](std::string text) {
      text = replace_all(text, "/etc/hubbatch/nightly-cleanup.toml", root + "/etc/nightly-cleanup.toml");
      text = replace_all(text, "/etc/hubbatch/token", f.file("token"));
      text = replace_all(text, "/srv/cleanup", root + "/srv");
      text = replace_all(text, "/var/lib/hubbatch", root + "/var");
      return replace_all(text, "/var/lib/node_exporter/textfile", root + "/var");
    };
    write_text(root + "/etc/nightly-cleanup.toml", moved(test::slurp((source_dir / "configs/nightly-cleanup.toml").string())));
    fs::create_directories(root + "/var");
    fs::create_directories(root + "/srv");
    for (std::size_t n = 0; n < nights.size(); ++n) {
      const std::string& d = nights[n];
      test::write_csv(root + "/srv/pairs-" + d + ".csv", night_pairs(n));
      for (std::size_t l = 0; l < blocks[b].size(); ++l) {
        const std::string log = "night" + std::to_string(n) + "-line" + std::to_string(l);
        auto s = f.shell(moved(blocks[b][l]), d, log);
        EXPECT_EQ(test::run(s), 0) << "night " << d << ", line: " << blocks[b][l] << "\n"
                                   << f.output(log) << test::slurp(root + "/srv/hubbatch.log")
                                   << test::slurp(root + "/var/hubbatch.log");
      }
      const std::string report = fs::exists(root + "/srv/report-" + d + ".json")
                                     ? root + "/srv/report-" + d + ".json"
                                     : root + "/var/report-" + d + ".json";
      f.expect_complete_report(report, n);
    }
    f.expect_store_empty();
  }
  EXPECT_GE(blocks.size(), 2u) << "a crontab with configs/nightly-cleanup.toml";
}

// The other archive configs (rate profiles), on the command line their
// header comment shows, run in the same directory on two days, each with a
// new export under the same name (pairs.csv): each run exits 0 with a
// complete report. A terminal user has the token in the environment.
TEST(recipes, rate_profile_configs_run_as_their_header_shows_two_days_in_a_row) {
  int seen = 0;
  for (const auto& entry : fs::directory_iterator(source_dir / "configs")) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".toml" || name.starts_with("sandbox") || name == "nightly-cleanup.toml") continue;
    SCOPED_TRACE(name);
    ++seen;
    nights_fixture f;
    std::string command = header_command(entry.path());
    ASSERT_TRUE(command.starts_with("hubbatch archive --config configs/")) << command;
    command = replace_all(command, "--config configs/", "--config '" + (source_dir / "configs").string() + "'/");
    const std::string from = flag_value(command, "--from-type"), to = flag_value(command, "--to-type");
    EXPECT_EQ(flag_value(command, "--input"), "pairs.csv") << command;
    EXPECT_NE(flag_value(command, "--report"), "") << "the header's command line names no report: " << command;
    for (std::size_t n = 0; n < nights.size(); ++n) {
      const std::string& d = nights[n];
      test::write_csv(f.file("pairs.csv"), night_pairs(n));  // the same name, a new export
      const std::string log = name + "-" + d;
      auto s = f.shell(command, d, log);
      s.env.push_back({"HUBSPOT_ACCESS_TOKEN", "pat-na1-test"});
      s.env.push_back({"HUBSPOT_OAUTH_TOKEN", "oauth-test"});
      ASSERT_EQ(test::run(s), 0) << command << "\n" << f.output(log);
      const std::string report = flag_value(replace_all(command, "$(date +%F)", d), "--report");
      if (!report.empty()) f.expect_complete_report(f.file(report), n);
    }
    f.expect_store_empty(from, to);
  }
  EXPECT_GE(seen, 4);
}

// Every archive config is accepted by the binary itself (flags, values and
// the checks after parsing), on the command line its header shows, with
// --plan on a small input; sandbox-demo.toml starts `hubbatch sandbox`.
TEST(recipes, every_config_is_accepted_by_the_binary) {
  test::temp_dir dir;
  test::write_csv(dir.file("pairs.csv"), night_pairs(0));
  test::write_csv(dir.file("demo-pairs.csv"), night_pairs(0));  // sandbox-demo.toml's seed
  int archive_configs = 0, sandbox_configs = 0;
  for (const auto& entry : fs::directory_iterator(source_dir / "configs")) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".toml") continue;
    SCOPED_TRACE(name);
    test::process_spec s;
    s.stdout_path = dir.file("out.txt");
    s.stderr_path = dir.file("err.txt");
    if (!name.starts_with("sandbox")) {
      ++archive_configs;
      s.args = {HUBBATCH_BINARY, "archive", "--config", entry.path().string(), "--from-type", "contacts",
                "--to-type", "companies", "--input", dir.file("pairs.csv"), "--plan"};
      EXPECT_EQ(test::run(s), 0) << test::slurp(dir.file("err.txt"));
      EXPECT_NE(test::slurp(dir.file("out.txt")).find("pairs         40\n"), std::string::npos)
          << test::slurp(dir.file("out.txt"));
      continue;
    }
    ++sandbox_configs;
    // Its relative paths (write-ca, seed) are the demo directory's; another
    // port than the file's 8443, which may be taken on a shared machine.
    s.args = {"/bin/sh", "-c",
              "cd '" + dir.path().string() + "' && exec '" + HUBBATCH_BINARY + "' sandbox --config '" +
                  entry.path().string() + "' --listen 127.0.0.1:0"};
    test::process p(s);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (test::slurp(dir.file("out.txt")).find("listening on https://") == std::string::npos && p.running() &&
           std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_NE(test::slurp(dir.file("out.txt")).find("listening on https://127.0.0.1:"), std::string::npos)
        << test::slurp(dir.file("err.txt"));
    EXPECT_TRUE(fs::exists(dir.file("sandbox-ca.pem")));
    p.signal(SIGTERM);
    EXPECT_EQ(p.wait(std::chrono::seconds(20)), 0) << test::slurp(dir.file("err.txt"));
  }
  EXPECT_GE(archive_configs, 5);
  EXPECT_EQ(sandbox_configs, 1);
}
