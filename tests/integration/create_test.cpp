// Issue 13: hubbatch create and archive-labels end to end, against the
// sandbox in-process over real TLS on 127.0.0.1. Every test compares the
// sandbox's typed listing (/_sandbox/pairs?labels=1: one line per pair and
// type) with the exact set it must hold, and checks that the books balance
// (input = created + failed + rejected + duplicate + pending).
#include "cli/exit_codes.hpp"
#include "engine/job.hpp"
#include "engine/operation.hpp"

#include "io/files.hpp"
#include "sandbox/config.hpp"
#include "sandbox/server.hpp"
#include "support/engine_job.hpp"
#include "support/process.hpp"
#include "support/test_data.hpp"
#include "support/typed_pairs.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>

using namespace hubbatch;

namespace {

using test::billing_type;
using test::job_for;
using test::listing_after_create;
using test::listing_minus;
using test::listing_union;
using test::make_pairs;
using test::options_for;
using test::primary_type;
using test::sandbox_with;
using test::temp_dir;
using test::typed_listing;
using test::unlabelled_type;
using test::with_types;
using test::write_typed_csv;

const assoc_type untyped{};

using test::expect_books_balance;

// A sandbox knowing the label USER_DEFINED:36 "Billing contact", seeded with
// untyped contact->company pairs (they list with the default type 279).
sandbox::config labelled_sandbox(const temp_dir& dir, const std::vector<pair_id>& seeded, const std::string& rate = "0") {
  auto sc = sandbox_with(seeded, rate);
  sc.labels_file = test::write_billing_labels(dir.file("labels.csv"));
  return sc;
}

engine::job_options create_options(const sandbox::background_sandbox& sb) {
  auto o = options_for(sb);
  o.op = &engine::create_operation();
  return o;
}

std::size_t count_typed(const std::vector<pair_id>& pairs, assoc_type t) {
  return static_cast<std::size_t>(std::count_if(pairs.begin(), pairs.end(), [&](const pair_id& p) { return p.type == t; }));
}

// A mix of the three ways a pair is created: a portal label, HubSpot's
// Primary, and unlabelled (batch/associate/default).
const std::vector<assoc_type> mix{billing_type, primary_type, untyped};

}  // namespace

// 1. Round trips: create, archive-labels of one label, archive.
TEST(create_integration, mixed_labels_round_trip_and_archive_restores_the_store) {
  temp_dir dir;
  auto seeded = make_pairs(500, 40, 30'000'000'000ULL);  // other associations in the portal: must be untouched
  sandbox::background_sandbox sb(labelled_sandbox(dir, seeded));
  const auto before = typed_listing(sb);
  ASSERT_EQ(before, listing_after_create(seeded)) << "a seeded pair lists with the default type";

  auto input = with_types(make_pairs(2'000, 41), mix);
  auto cfg = job_for(sb, write_typed_csv(dir.file("create.csv"), input));
  cfg.failures_path = dir.file("failures.csv");
  auto r = engine::run_job(cfg, create_options(sb));

  expect_books_balance(r);
  EXPECT_EQ(cli::decide_exit(r, false).code, 0);
  EXPECT_EQ(r.context.operation, "create");
  EXPECT_EQ(r.totals.done_pairs, input.size());
  EXPECT_EQ(r.totals.failed_pairs, 0u);
  EXPECT_EQ(r.totals.retries, 0u);
  const auto created = listing_after_create(input);
  EXPECT_EQ(typed_listing(sb), listing_union(before, created));
  auto st = sb.stats();
  EXPECT_EQ(st.created_pairs, input.size());
  EXPECT_EQ(st.labels_created, count_typed(input, billing_type) + count_typed(input, primary_type));
  EXPECT_GT(st.by_status[201], 0u) << "typed pairs went to batch/create";
  EXPECT_GT(st.by_status[200], 0u) << "untyped pairs went to batch/associate/default";

  // archive-labels of USER_DEFINED:36 on every pair: only that label goes
  // (pairs without it: nothing to remove, still done).
  {
    auto cfg2 = job_for(sb, test::write_csv(dir.file("all.csv"), test::untyped(input)));
    cfg2.label = billing_type;
    cfg2.refused_types = {unlabelled_type};
    auto o = options_for(sb);
    o.op = &engine::archive_labels_operation();
    auto r2 = engine::run_job(cfg2, o);
    expect_books_balance(r2);
    EXPECT_EQ(r2.totals.done_pairs, input.size());
    std::vector<pair_id> billing;
    for (const auto& p : input)
      if (p.type == billing_type) billing.push_back(p);
    EXPECT_EQ(typed_listing(sb), listing_minus(listing_union(before, created), billing));
    EXPECT_EQ(sb.stats().labels_archived, billing.size());
  }

  // archive of the created pairs: the store is exactly as it began.
  auto cfg3 = job_for(sb, dir.file("all.csv"));
  auto r3 = engine::run_job(cfg3, options_for(sb));
  expect_books_balance(r3);
  EXPECT_EQ(r3.totals.done_pairs, input.size());
  EXPECT_EQ(typed_listing(sb), before);
}

// Issue 13: v4's 201, production's 200 (--create-status 200) and a dated
// version's 200 all mean created.
TEST(create_integration, created_on_201_200_and_the_dated_version) {
  struct variant {
    const char* name;
    int create_status;
    const char* api_version;
    int typed_status;  // what batch/create answers
  };
  for (const variant v : {variant{"v4 201", 201, "v4", 201}, variant{"v4 200", 200, "v4", 200},
                          variant{"2026-03", 201, "2026-03", 200}}) {
    temp_dir dir;
    auto sc = labelled_sandbox(dir, {});
    sc.create_status = v.create_status;
    sandbox::background_sandbox sb(sc);
    auto input = with_types(make_pairs(600, 42), mix);
    auto cfg = job_for(sb, write_typed_csv(dir.file("create.csv"), input));
    cfg.api_version = v.api_version;
    auto r = engine::run_job(cfg, create_options(sb));
    expect_books_balance(r);
    EXPECT_EQ(cli::decide_exit(r, false).code, 0) << v.name;
    EXPECT_EQ(r.totals.done_pairs, input.size()) << v.name;
    EXPECT_EQ(r.totals.retries, 0u) << v.name;
    EXPECT_GT(r.totals.http_status[v.typed_status], 0u) << v.name;
    if (v.typed_status != 201) {
      EXPECT_EQ(r.totals.http_status[201], 0u) << v.name;
    }
    EXPECT_EQ(typed_listing(sb), listing_after_create(input)) << v.name;
  }
}

// A file whose lines alternate labelled and unlabelled pairs (a type column
// with some cells empty) still fills its batches: typed and untyped pairs
// go to different endpoints, but each batch should carry --batch-size pairs.
//
// Found in review: a batch used to end at the first waiting group of the
// other kind, so interleaved kinds sent about 3 pairs a request.
TEST(create_integration, interleaved_labelled_and_unlabelled_lines_fill_their_batches) {
  temp_dir dir;
  sandbox::background_sandbox sb(labelled_sandbox(dir, {}));
  auto input = with_types(make_pairs(3'000, 50), mix);
  auto cfg = job_for(sb, write_typed_csv(dir.file("create.csv"), input));
  auto r = engine::run_job(cfg, create_options(sb));
  expect_books_balance(r);
  EXPECT_EQ(r.totals.done_pairs, input.size());
  EXPECT_EQ(typed_listing(sb), listing_after_create(input));
  EXPECT_LE(r.totals.requests, 3'000u / 100 + 8) << "pairs per request: " << r.totals.sent_pairs / r.totals.requests;
}

// --label fills in the type of every pair the input gives none; a line's own
// type wins.
TEST(create_integration, label_option_types_the_untyped_lines_only) {
  temp_dir dir;
  sandbox::background_sandbox sb(labelled_sandbox(dir, {}));
  auto input = with_types(make_pairs(900, 43), mix);
  auto cfg = job_for(sb, write_typed_csv(dir.file("create.csv"), input));
  cfg.label = billing_type;
  auto r = engine::run_job(cfg, create_options(sb));
  expect_books_balance(r);
  EXPECT_EQ(r.totals.done_pairs, input.size());
  auto expected = input;
  for (auto& p : expected)
    if (p.type.empty()) p.type = billing_type;
  EXPECT_EQ(typed_listing(sb), listing_after_create(expected));
  EXPECT_EQ(sb.stats().by_status[200], 0u) << "nothing went to batch/associate/default";
}

// 2. Per-pair failures. Records missing from the portal (--objects): the
// pairs naming them fail with the server's category and message, the type
// kept in the failures file; every other pair is created; nothing is resent.
// Each unknown contact here has one pair (several: the test below).
TEST(create_integration, unknown_records_fail_only_their_pairs) {
  temp_dir dir;
  auto input = with_types(make_pairs(1'200, 44), mix);
  std::map<std::uint64_t, int> pairs_of;
  for (const auto& p : input) ++pairs_of[p.from];
  std::set<std::uint64_t> unknown_from, unknown_to;
  for (std::size_t i = 0; i < input.size(); ++i) {
    if (i % 3 == 0 && pairs_of[input[i].from] == 1 && unknown_from.size() < 15) unknown_from.insert(input[i].from);
    if (i % 131 == 50) unknown_to.insert(input[i].to);
  }
  ASSERT_GE(unknown_from.size(), 10u);
  std::vector<pair_id> fail, ok;
  for (const auto& p : input) (unknown_from.count(p.from) || unknown_to.count(p.to) ? fail : ok).push_back(p);
  {
    std::ofstream objects(dir.file("objects.csv"));
    objects << "type,id\n";
    for (const auto& p : input) {
      if (!unknown_from.count(p.from)) objects << "contacts," << p.from << '\n';
      if (!unknown_to.count(p.to)) objects << "companies," << p.to << '\n';
    }
  }
  auto sc = labelled_sandbox(dir, {});
  sc.objects_file = dir.file("objects.csv");
  sandbox::background_sandbox sb(sc);
  auto cfg = job_for(sb, write_typed_csv(dir.file("create.csv"), input));
  cfg.failures_path = dir.file("failures.csv");
  auto r = engine::run_job(cfg, create_options(sb));

  expect_books_balance(r);
  EXPECT_EQ(cli::decide_exit(r, false).code, 1);
  EXPECT_EQ(r.totals.done_pairs, ok.size());
  EXPECT_EQ(r.totals.failed_pairs, fail.size());
  EXPECT_EQ(r.totals.errors_by_category["VALIDATION_ERROR"], fail.size());
  EXPECT_EQ(r.totals.retries, 0u) << "an input error is final";
  EXPECT_EQ(r.totals.split_batches, 0u) << "every error names its ids: no bisection";
  EXPECT_EQ(typed_listing(sb), listing_after_create(ok));

  auto rows = test::read_failures(cfg.failures_path);
  ASSERT_EQ(rows.size(), fail.size());
  std::vector<pair_id> listed;
  for (const auto& row : rows) {
    auto p = row.pair();
    listed.push_back(p);
    EXPECT_EQ(row.outcome, "failed");
    EXPECT_EQ(row.category, "VALIDATION_ERROR");
    // batch/create answers 207 with errors[], batch/associate/default 200.
    EXPECT_EQ(row.http_status, p.type.empty() ? "200" : "207") << row.message;
    const std::string id = unknown_from.count(p.from) ? std::to_string(p.from) : std::to_string(p.to);
    EXPECT_NE(row.message.find("with id " + id + " exists"), std::string::npos) << row.message;
    EXPECT_FALSE(row.line.empty());
  }
  EXPECT_EQ(test::sorted(listed), test::sorted(fail));
}

// A contact unknown to the portal with several pairs in one batch: the
// sandbox answers one errors[] item per input, each naming the contact
// ({"fromObjectId":["X"]}); only X's pairs may fail.
//
// Found in review: a second error about the same missing record made the
// created rest of the batch look unsure; it was resent and one pair failed.
TEST(create_integration, unknown_contact_with_several_pairs_fails_only_them) {
  temp_dir dir;
  std::ofstream(dir.file("objects.csv")) << "contacts,500\ncompanies,9001\ncompanies,9002\ncompanies,9003\n"
                                            "companies,9004\n";
  auto sc = labelled_sandbox(dir, {});
  sc.objects_file = dir.file("objects.csv");
  sandbox::background_sandbox sb(sc);
  const std::vector<pair_id> fail{{42, 9001, billing_type}, {42, 9002, billing_type}, {42, 9003, billing_type}};
  const std::vector<pair_id> ok{{500, 9004, billing_type}};
  auto input = fail;
  input.insert(input.end(), ok.begin(), ok.end());
  auto cfg = job_for(sb, write_typed_csv(dir.file("create.csv"), input));
  cfg.failures_path = dir.file("failures.csv");
  auto r = engine::run_job(cfg, create_options(sb));

  expect_books_balance(r);
  EXPECT_EQ(typed_listing(sb), listing_after_create(ok));
  EXPECT_EQ(r.totals.failed_pairs, fail.size());
  EXPECT_EQ(r.totals.done_pairs, ok.size());
  EXPECT_EQ(r.totals.requests, 1u) << "every error names its ids: nothing to bisect";
  std::vector<pair_id> listed;
  for (const auto& row : test::read_failures(cfg.failures_path)) listed.push_back(row.pair());
  EXPECT_EQ(test::sorted(listed), test::sorted(fail));
}

// Records already at --max-associations-per-record: a new association
// fails (from or to side), a label on an existing association does not.
TEST(create_integration, association_limit_fails_only_the_pairs_over_it) {
  temp_dir dir;
  // Contact 42 has 3 companies and company 77 has 3 contacts: both at the limit.
  std::vector<pair_id> seeded{{42, 1}, {42, 2}, {42, 3}, {1, 77}, {2, 77}, {3, 77}};
  auto sc = labelled_sandbox(dir, seeded);
  sc.max_associations_per_record = 3;
  sandbox::background_sandbox sb(sc);
  const auto before = typed_listing(sb);

  std::vector<pair_id> ok, fail;
  for (std::uint64_t i = 0; i < 400; ++i) ok.push_back({100 + i, 5000 + i});  // one association per record
  ok = with_types(ok, mix);
  for (std::uint64_t i = 0; i < 6; ++i) fail.push_back({42, 9000 + i, mix[i % 3]});
  for (std::uint64_t i = 0; i < 6; ++i) fail.push_back({600 + i, 77, mix[i % 3]});
  ok.push_back({42, 1, billing_type});  // exists: a label on it is not a new association
  ok.push_back({2, 77, primary_type});
  auto input = ok;
  input.insert(input.end(), fail.begin(), fail.end());
  std::shuffle(input.begin(), input.end(), std::mt19937_64(45));

  auto cfg = job_for(sb, write_typed_csv(dir.file("create.csv"), input));
  cfg.failures_path = dir.file("failures.csv");
  auto r = engine::run_job(cfg, create_options(sb));

  expect_books_balance(r);
  EXPECT_EQ(r.totals.done_pairs, ok.size());
  EXPECT_EQ(r.totals.failed_pairs, fail.size());
  EXPECT_EQ(r.totals.retries, 0u);
  EXPECT_EQ(typed_listing(sb), listing_union(before, listing_after_create(ok)));
  auto rows = test::read_failures(cfg.failures_path);
  std::vector<pair_id> listed;
  for (const auto& row : rows) {
    listed.push_back(row.pair());
    EXPECT_EQ(row.category, "VALIDATION_ERROR");
    EXPECT_NE(row.message.find("Association limit exceeded"), std::string::npos) << row.message;
  }
  EXPECT_EQ(test::sorted(listed), test::sorted(fail));
}

// A type the portal does not define (USER_DEFINED:99) fails the whole
// request naming no ids: bisection pins it on exactly its pairs.
TEST(create_integration, undefined_label_fails_exactly_its_pairs) {
  temp_dir dir;
  sandbox::background_sandbox sb(labelled_sandbox(dir, {}));
  const assoc_type undefined{99, assoc_category::user_defined};
  auto input = with_types(make_pairs(800, 46), {billing_type, primary_type});
  std::vector<pair_id> fail, ok;
  for (std::size_t i = 0; i < input.size(); ++i) {
    if (i % 150 == 7) input[i].type = undefined;
    (input[i].type == undefined ? fail : ok).push_back(input[i]);
  }
  auto cfg = job_for(sb, write_typed_csv(dir.file("create.csv"), input));
  cfg.failures_path = dir.file("failures.csv");
  auto r = engine::run_job(cfg, create_options(sb));

  expect_books_balance(r);
  EXPECT_EQ(r.totals.failed_pairs, fail.size());
  EXPECT_EQ(r.totals.done_pairs, ok.size());
  EXPECT_GT(r.totals.split_batches, 0u) << "found by bisection";
  EXPECT_EQ(r.totals.retries, 0u);
  EXPECT_LE(r.totals.requests, 8u + fail.size() * 2 * 8) << "bisection, not one request per pair";
  EXPECT_EQ(typed_listing(sb), listing_after_create(ok)) << "no type 99 and no default for its pairs";
  auto rows = test::read_failures(cfg.failures_path);
  std::vector<pair_id> listed;
  for (const auto& row : rows) {
    listed.push_back(row.pair());
    EXPECT_EQ(row.http_status, "400");
    EXPECT_EQ(row.category, "VALIDATION_ERROR");
    EXPECT_NE(row.message.find("USER_DEFINED:99"), std::string::npos) << row.message;
  }
  EXPECT_EQ(test::sorted(listed), test::sorted(fail));
}

// 3. Faults: 429s, 5xx, resets before and after applying, slow and garbled
// answers. Every pair ends created exactly as asked.
TEST(create_integration, every_pair_created_under_429s_5xx_resets_and_slow_answers) {
  temp_dir dir;
  auto sc = labelled_sandbox(dir, {}, "60/1s");  // the client does not pace: 429 bursts
  sc.fault_5xx = 0.05;
  sc.fault_reset = 0.03;
  sc.fault_reset_after_apply = 0.03;
  sc.fault_slow = 0.03;
  sc.fault_slow_delay = std::chrono::milliseconds(150);
  sc.fault_garbage = 0.02;
  sandbox::background_sandbox sb(sc);
  auto input = with_types(make_pairs(2'000, 47), mix);
  auto cfg = job_for(sb, write_typed_csv(dir.file("create.csv"), input));
  cfg.batch_size = 20;  // ~100 batches: more faults
  cfg.max_retries = 30;
  cfg.failures_path = dir.file("failures.csv");
  auto r = engine::run_job(cfg, create_options(sb));

  expect_books_balance(r);
  EXPECT_EQ(cli::decide_exit(r, false).code, 0);
  EXPECT_EQ(r.totals.done_pairs, input.size());
  EXPECT_EQ(r.totals.failed_pairs, 0u);
  EXPECT_GT(r.totals.rate_limited, 0u) << "the scenario must produce 429s";
  EXPECT_GT(r.totals.transport_errors, 0u) << "and resets";
  EXPECT_GT(r.totals.http_status[500] + r.totals.http_status[502] + r.totals.http_status[503] +
                r.totals.http_status[504],
            0u);
  auto st = sb.stats();
  EXPECT_GT(st.faults.reset_after_apply, 0u) << "a resend of an applied create must be harmless";
  EXPECT_EQ(typed_listing(sb), listing_after_create(input));
  EXPECT_EQ(st.created_pairs, input.size());
  EXPECT_EQ(test::read_failures(cfg.failures_path).size(), 0u);
}

// A 200 whose body is garbled or cut short, on a connection that has just
// read a full answer (the session hands its body buffer from one response to
// the next): still a bad response, counted and its batch resent.
TEST(create_integration, garbled_or_cut_2xx_answers_between_full_ones_are_resent) {
  temp_dir dir;
  auto sc = labelled_sandbox(dir, {});
  sc.fault_garbage = 0.3;
  sc.fault_seed = 5;
  sandbox::background_sandbox sb(sc);
  auto input = with_types(make_pairs(2'000, 48), mix);
  auto cfg = job_for(sb, write_typed_csv(dir.file("create.csv"), input));
  cfg.batch_size = 50;  // about 40 batches: a dozen garbled answers
  cfg.connections = 1;  // one session reads every answer
  cfg.max_retries = 30;
  auto r = engine::run_job(cfg, create_options(sb));

  expect_books_balance(r);
  EXPECT_EQ(r.totals.done_pairs, input.size());
  const auto st = sb.stats();
  EXPECT_GT(st.faults.garbage, 0u);
  EXPECT_EQ(r.totals.transport_errors, st.faults.garbage) << "each garbled answer is a bad response";
  EXPECT_EQ(r.totals.retries, st.faults.garbage) << "and its batch is sent again";
  EXPECT_EQ(typed_listing(sb), listing_after_create(input));
}

namespace {

// Pulls one integer field out of the report JSON (`"name": 123`), searching
// from `from` (e.g. the position of "job_totals").
std::uint64_t json_field(const std::string& json, const std::string& name, std::size_t from = 0) {
  auto p = json.find("\"" + name + "\":", from);
  if (p == std::string::npos) return ~0ULL;
  return std::stoull(json.substr(json.find(':', p) + 1));
}

// The binary (create, archive, ...) against a sandbox: the CA in a file, the
// token in the environment, report and failures in the scratch directory.
struct cli_job {
  const sandbox::background_sandbox& sb;
  const temp_dir& dir;
  std::string input;
  std::vector<std::string> extra;

  test::process_spec spec(const std::string& command, bool resume) const {
    test::process_spec s;
    s.args = {HUBBATCH_BINARY, command, "--from-type", "contacts", "--to-type", "companies", "--input", input,
              "--base-url", sb.base_url(), "--ca-file", dir.file("ca.pem"), "--report", dir.file("report.json"),
              "--failures", dir.file("failures.csv"), "--quiet"};
    s.args.insert(s.args.end(), extra.begin(), extra.end());
    if (resume) s.args.push_back("--resume");
    s.env = {{"HUBSPOT_ACCESS_TOKEN", "pat-test-token"}};
    s.stdout_path = dir.file("stdout.txt");
    s.stderr_path = dir.file("stderr.txt");
    return s;
  }
};

}  // namespace

// 4. kill -9 at random points, then --resume until done: the portal holds
// exactly the typed set asked for, the job's totals add up to the input.
// A create journal is never resumed by archive.
TEST(create_integration, sigkill_at_random_points_then_resume_creates_exactly_the_input) {
  temp_dir dir;
  auto sc = labelled_sandbox(dir, {});
  sc.fault_5xx = 0.05;
  sc.fault_reset = 0.03;
  sc.fault_reset_after_apply = 0.02;
  sc.fault_slow = 0.2;
  sc.fault_slow_delay = std::chrono::milliseconds(30);
  sandbox::background_sandbox sb(sc);
  io::write_file_atomic(dir.file("ca.pem"), sb.ca_pem());
  auto input = with_types(make_pairs(8'000, 48), mix);
  cli_job cli{sb, dir, write_typed_csv(dir.file("create.csv"), input),
              {"--rate", "0", "--connections", "4", "--batch-size", "10", "--max-retries", "50"}};

  std::mt19937_64 rng(8);
  int kills = 0;
  bool refused_checked = false;
  for (int run = 0; run < 5; ++run) {
    auto before = sb.stats().requests;
    test::process p(cli.spec("create", run > 0));
    auto threshold = before + 20 + rng() % 100;
    // Waits for the sandbox to have seen `threshold` requests (or the run to end).
    while (p.running() && sb.stats().requests < threshold) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (!p.running()) break;
    p.signal(SIGKILL);
    EXPECT_EQ(p.wait(), 128 + SIGKILL);
    ++kills;
    if (!refused_checked) {
      // archive --resume on the create journal (same --report): refused, nothing sent.
      refused_checked = true;
      const auto listing = typed_listing(sb);
      const auto requests = sb.stats().requests;
      EXPECT_EQ(test::run(cli.spec("archive", true)), 2);
      std::string err = test::slurp(dir.file("stderr.txt"));
      EXPECT_NE(err.find("create"), std::string::npos) << err;
      EXPECT_EQ(sb.stats().requests, requests) << err;
      EXPECT_EQ(typed_listing(sb), listing);
    }
  }
  ASSERT_GE(kills, 3) << "the run was too quick to be killed mid-way";
  ASSERT_EQ(test::run(cli.spec("create", true)), 0) << test::slurp(dir.file("stderr.txt"));

  EXPECT_EQ(typed_listing(sb), listing_after_create(input));
  std::string report = test::slurp(dir.file("report.json"));
  EXPECT_NE(report.find("\"operation\": \"create\""), std::string::npos) << report;
  EXPECT_NE(report.find("\"invariant_ok\": true"), std::string::npos) << report;
  auto totals = report.find("\"job_totals\"");
  ASSERT_NE(totals, std::string::npos) << report;
  EXPECT_EQ(json_field(report, "runs", totals), static_cast<std::uint64_t>(kills + 1));
  EXPECT_EQ(json_field(report, "input_pairs", totals), input.size());
  EXPECT_EQ(json_field(report, "created_pairs", totals), input.size());
  EXPECT_EQ(json_field(report, "failed_pairs", totals), 0u);
  EXPECT_EQ(json_field(report, "pending_pairs", totals), 0u);
  EXPECT_EQ(json_field(report, "rejected_pairs", totals), 0u);
  EXPECT_EQ(json_field(report, "duplicate_pairs", totals), 0u);
  EXPECT_EQ(sb.stats().created_pairs, input.size()) << "each association created once, resends aside";
}

// A finished create job's journal is not resumed by archive either: with
// --resume the user asked to continue a job, and the journal's job is
// another operation, so nothing may be sent (least of all an archive of
// everything just created).
//
// Found in review: `archive --resume` with a finished create's --report
// replaced the journal and archived what the create had made.
TEST(create_integration, archive_resume_on_a_finished_create_journal_is_refused) {
  temp_dir dir;
  sandbox::background_sandbox sb(labelled_sandbox(dir, {}));
  io::write_file_atomic(dir.file("ca.pem"), sb.ca_pem());
  auto input = with_types(make_pairs(300, 49), mix);
  cli_job cli{sb, dir, write_typed_csv(dir.file("create.csv"), input), {"--rate", "0"}};
  ASSERT_EQ(test::run(cli.spec("create", false)), 0) << test::slurp(dir.file("stderr.txt"));
  const auto listing = typed_listing(sb);
  ASSERT_EQ(listing, listing_after_create(input));
  const auto requests = sb.stats().requests;

  int code = test::run(cli.spec("archive", true));
  std::string err = test::slurp(dir.file("stderr.txt"));
  EXPECT_EQ(code, 2) << err;
  EXPECT_EQ(sb.stats().requests, requests) << err;
  EXPECT_EQ(typed_listing(sb), listing) << "the created associations are still there";
}
