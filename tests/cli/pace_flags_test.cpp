// --batch-size auto|N and the pacing flags, as `hubbatch archive` reads them.
#include "cli/job_flags.hpp"

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

using namespace hubbatch;

TEST(pace_flags, batch_size_auto_for_writes_and_a_number_for_reads) {
  engine::archive_config c;
  cli::parse_batch_size("auto", c, cli::job_kind::create);
  EXPECT_TRUE(c.batch_size_auto);
  EXPECT_EQ(c.batch_size, 100u) << "auto starts at the size HubSpot is known to take";
  cli::parse_batch_size("250", c, cli::job_kind::archive);
  EXPECT_FALSE(c.batch_size_auto);
  EXPECT_EQ(c.batch_size, 250u);
  cli::parse_batch_size("1000", c, cli::job_kind::export_records);
  EXPECT_EQ(c.batch_size, 1000u);
  EXPECT_THROW(cli::parse_batch_size("auto", c, cli::job_kind::export_records), CLI::ValidationError)
      << "reads have a documented cap: nothing to learn";
  for (const char* bad : {"0", "10001", "-5", "12x", "", " 100", "1e3"})
    EXPECT_THROW(cli::parse_batch_size(bad, c, cli::job_kind::archive), CLI::ValidationError) << bad;
}

TEST(pace_flags, the_archive_command_defaults_to_auto_and_refuses_bad_values_with_a_usage_error) {
  CLI::App app{"hubbatch"};
  cli::command_runner run;
  app.require_subcommand(1, 1);
  cli::add_job_command(app, &run, cli::job_kind::archive);
  auto parse = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{"hubbatch", "archive", "--from-type", "contacts", "--to-type", "companies"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<const char*> argv;
    for (auto& a : args) argv.push_back(a.c_str());
    try {
      app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::ParseError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(parse({}), "");
  EXPECT_NE(parse({"--batch-size", "lots"}).find("expected auto or N"), std::string::npos);
  EXPECT_NE(parse({"--max-rate", "fast"}).find("expected N/s"), std::string::npos);
  EXPECT_EQ(parse({"--max-rate", "40", "--no-adaptive"}), "");
}
