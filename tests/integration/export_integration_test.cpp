// Issue 14: hubbatch export end to end, against the sandbox in-process over
// real TLS on 127.0.0.1, with few associations a page (--read-page-size) so
// every record takes several. Every test compares what was written with the
// sandbox's typed listing (/_sandbox/pairs?labels=1) as a set.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <string>
#include <vector>

#include "cli/exit_codes.hpp"
#include "engine/job.hpp"
#include "engine/operation.hpp"
#include "io/files.hpp"
#include "sandbox/config.hpp"
#include "sandbox/server.hpp"
#include "support/engine_job.hpp"
#include "support/export_rows.hpp"
#include "support/process.hpp"
#include "support/test_data.hpp"
#include "support/typed_pairs.hpp"

using namespace hubbatch;

namespace {

using test::make_pairs;
using test::temp_dir;

// A labelled sandbox (USER_DEFINED:36 "Billing contact") with `seeded`
// pairs listed as unlabelled, a third of them labelled Billing and a third
// Primary too; each record holds ~4 associations, 2 a page.
struct labelled_portal {
  temp_dir dir;
  std::vector<pair_id> seeded;
  std::unique_ptr<sandbox::background_sandbox> sb;

  explicit labelled_portal(std::size_t n, std::uint64_t seed, void (*faults)(sandbox::config&) = nullptr)
      : seeded(make_pairs(n, seed)) {
    sb = test::start_labelled_portal(dir, seeded, faults);
  }

  engine::archive_config export_job(const std::string& input, const std::string& output) const {
    auto cfg = test::job_for(*sb, input);
    cfg.records_input = true;
    cfg.output_path = output;
    cfg.batch_size = 100;
    return cfg;
  }
  engine::job_options export_options() const {
    auto o = test::options_for(*sb);
    o.op = &engine::read_operation(engine::operation::read_kind::records);
    return o;
  }
};

using test::expect_books_balance;

std::size_t distinct_froms(const std::vector<pair_id>& pairs) {
  std::vector<std::uint64_t> f;
  for (const auto& p : pairs) f.push_back(p.from);
  std::sort(f.begin(), f.end());
  return static_cast<std::size_t>(std::unique(f.begin(), f.end()) - f.begin());
}

}  // namespace

TEST(export_integration, every_page_of_every_record_equals_the_portal_with_labels) {
  labelled_portal portal(1'200, 140);
  const auto ids = test::write_ids(portal.dir.file("ids.csv"), portal.seeded, {1, 2, 3});  // 3 without any
  const auto out = portal.dir.file("export.csv");
  auto r = engine::run_job(portal.export_job(ids, out), portal.export_options());

  expect_books_balance(r);
  EXPECT_EQ(cli::decide_exit(r, false).code, 0);
  const auto listing = test::typed_listing(*portal.sb);
  EXPECT_EQ(test::export_listing(out), listing);
  EXPECT_EQ(test::sorted_rows(out).size(), listing.size()) << "no row twice";
  EXPECT_EQ(test::wrong_labels(out), std::vector<std::string>{});
  EXPECT_EQ(r.totals.done_pairs, distinct_froms(portal.seeded) + 3);
  EXPECT_EQ(r.totals.read_rows, listing.size());
  EXPECT_GT(r.totals.read_pages, r.totals.done_pairs) << "records took several pages";
  EXPECT_LT(r.totals.requests * 10, r.totals.read_pages) << "next pages are gathered into full requests";
  EXPECT_EQ(r.context.operation, "export");
}

TEST(export_integration, ndjson_output_parses_and_equals_the_portal) {
  labelled_portal portal(400, 141);
  const auto out = portal.dir.file("export.ndjson");
  auto cfg = portal.export_job(test::write_ids(portal.dir.file("ids.csv"), portal.seeded), out);
  cfg.output = engine::output_format::ndjson;
  auto r = engine::run_job(cfg, portal.export_options());
  expect_books_balance(r);
  EXPECT_EQ(cli::decide_exit(r, false).code, 0);

  simdjson::dom::parser parser;
  std::vector<pair_id> rows;
  std::ifstream in(out);
  for (std::string line; std::getline(in, line);) {
    simdjson::dom::element e;
    ASSERT_EQ(parser.parse(line).get(e), simdjson::SUCCESS) << line;
    std::string_view from = e["from_id"], to = e["to_id"], category = e["category"];
    const std::int64_t type_id = e["type_id"];
    const assoc_type t{static_cast<std::int32_t>(type_id), *parse_assoc_category(category)};
    const std::string want = test::label_of(t);
    if (want.empty()) {
      EXPECT_TRUE(e["label"].is_null()) << line;
    } else {
      EXPECT_EQ(std::string_view(e["label"]), want) << line;
    }
    rows.push_back({std::stoull(std::string(from)), std::stoull(std::string(to)), t});
  }
  EXPECT_EQ(test::sorted(rows), test::typed_listing(*portal.sb));
}

TEST(export_integration, a_pairs_file_reads_its_from_column) {
  labelled_portal portal(400, 142);
  const auto out = portal.dir.file("export.csv");
  auto r = engine::run_job(portal.export_job(test::write_csv(portal.dir.file("pairs.csv"), portal.seeded), out),
                           portal.export_options());
  expect_books_balance(r);
  EXPECT_EQ(cli::decide_exit(r, false).code, 0);
  EXPECT_EQ(test::export_listing(out), test::typed_listing(*portal.sb));
  EXPECT_EQ(r.totals.done_pairs, distinct_froms(portal.seeded)) << "each record read once";
}

void export_faults(sandbox::config& sc) {
  sc.rate = *sandbox::parse_rate("40/1s");
  sc.fault_5xx = 0.08;
  sc.fault_reset = 0.05;
  sc.fault_reset_after_apply = 0.05;
  sc.fault_garbage = 0.08;
  sc.fault_slow = 0.05;
  sc.fault_slow_delay = std::chrono::milliseconds(50);
}

TEST(export_integration, faults_429s_resets_and_garbage_change_nothing_in_the_output) {
  labelled_portal portal(1'000, 143, export_faults);
  const auto out = portal.dir.file("export.csv");
  auto cfg = portal.export_job(test::write_ids(portal.dir.file("ids.csv"), portal.seeded), out);
  cfg.batch_size = 20;
  cfg.max_retries = 40;
  auto r = engine::run_job(cfg, portal.export_options());
  expect_books_balance(r);
  EXPECT_EQ(cli::decide_exit(r, false).code, 0);
  EXPECT_EQ(r.totals.failed_pairs, 0u);
  const auto st = portal.sb->stats();
  EXPECT_GT(st.faults.garbage, 0u) << "the scenario must garble some answers";
  EXPECT_GT(r.totals.transport_errors, 0u);
  EXPECT_GT(r.totals.rate_limited, 0u);
  const auto listing = test::typed_listing(*portal.sb);
  EXPECT_EQ(test::export_listing(out), listing);
  EXPECT_EQ(test::sorted_rows(out).size(), listing.size()) << "a resent page writes no row twice";
}

// The binary: refusals, and an interrupted export finished by --resume.
TEST(export_integration, refuses_a_non_empty_output_without_overwrite_or_resume) {
  labelled_portal portal(100, 144);
  const auto& dir = portal.dir;
  const auto ids = test::write_ids(dir.file("ids.csv"), portal.seeded);
  const auto out = dir.file("export.csv");
  const std::string old = "from_id,to_id,category,type_id,label\n1,2,HUBSPOT_DEFINED,279,\n";
  io::write_file_atomic(out, old);
  const auto requests = portal.sb->stats().requests;
  EXPECT_EQ(test::run(test::binary_spec(*portal.sb, dir, "export", {"--input", ids, "--output", out})), 2)
      << test::slurp(dir.file("stderr.txt"));
  EXPECT_NE(test::slurp(dir.file("stderr.txt")).find("--overwrite"), std::string::npos)
      << test::slurp(dir.file("stderr.txt"));
  EXPECT_EQ(test::slurp(out), old) << "untouched";
  EXPECT_EQ(portal.sb->stats().requests, requests) << "nothing sent";

  // --resume without a journal to resume is no licence either.
  EXPECT_EQ(test::run(test::binary_spec(*portal.sb, dir, "export", {"--input", ids, "--output", out, "--resume"})), 2)
      << test::slurp(dir.file("stderr.txt"));
  EXPECT_EQ(test::slurp(out), old);

  // --overwrite replaces it.
  EXPECT_EQ(test::run(test::binary_spec(*portal.sb, dir, "export", {"--input", ids, "--output", out, "--overwrite"})),
            0)
      << test::slurp(dir.file("stderr.txt"));
  EXPECT_EQ(test::export_listing(out), test::typed_listing(*portal.sb));
}

TEST(export_integration, refuses_an_output_that_is_the_input) {
  labelled_portal portal(50, 145);
  const auto& dir = portal.dir;
  const auto ids = test::write_ids(dir.file("ids.csv"), portal.seeded);
  const auto before = test::slurp(ids);
  EXPECT_EQ(test::run(test::binary_spec(*portal.sb, dir, "export", {"--input", ids, "--output", ids, "--overwrite"})),
            2);
  EXPECT_EQ(test::slurp(ids), before);
  // The same file by another name.
  EXPECT_EQ(test::run(test::binary_spec(*portal.sb, dir, "export",
                                        {"--input", ids, "--output", dir.path().string() + "/./ids.csv"})),
            2);
  EXPECT_EQ(test::slurp(ids), before);
}

TEST(export_integration, an_export_stopped_by_max_requests_resumes_to_the_whole_set) {
  labelled_portal portal(600, 146);
  const auto& dir = portal.dir;
  const auto ids = test::write_ids(dir.file("ids.csv"), portal.seeded);
  const auto out = dir.file("export.csv");
  const std::vector<std::string> args{"--input",      ids, "--output", out, "--report", dir.file("report.json"),
                                      "--batch-size", "50"};
  auto first = args;
  first.insert(first.end(), {"--max-requests", "2", "--connections", "1"});
  ASSERT_EQ(test::run(test::binary_spec(*portal.sb, dir, "export", first)), 3) << test::slurp(dir.file("stderr.txt"));
  const auto partial = test::export_listing(out);
  const auto listing = test::typed_listing(*portal.sb);
  EXPECT_GT(partial.size(), 0u);
  EXPECT_LT(partial.size(), listing.size());

  auto again = args;
  again.push_back("--resume");
  ASSERT_EQ(test::run(test::binary_spec(*portal.sb, dir, "export", again)), 0) << test::slurp(dir.file("stderr.txt"));
  EXPECT_EQ(test::export_listing(out), listing);
  const auto report = test::slurp(dir.file("report.json"));
  EXPECT_NE(report.find("\"invariant_ok\": true"), std::string::npos) << report;
  EXPECT_EQ(test::json_u64(report, "records"), test::json_u64(report, "read_pairs")) << report;
  EXPECT_GT(test::json_u64(report, "pages"), 0u) << report;
  EXPECT_GT(test::json_u64(report, "association_rows"), 0u) << report;
  const auto totals = report.find("\"job_totals\"");
  ASSERT_NE(totals, std::string::npos) << report;
  EXPECT_EQ(test::json_u64(report, "runs", totals), 2u);
  EXPECT_EQ(test::json_u64(report, "pending_pairs", totals), 0u);
  EXPECT_EQ(test::json_u64(report, "failed_pairs", totals), 0u);
}
