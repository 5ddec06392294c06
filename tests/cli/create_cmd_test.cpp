// Issue 13: `hubbatch create` and `hubbatch archive-labels` as an operator
// runs them, against a background sandbox over TLS: archive-labels' refusal
// of the portal's unlabelled type, labels by name, and the mistakes worth a
// test (half a label column, a failures file fed back).
#include "io/files.hpp"
#include "sandbox/config.hpp"
#include "sandbox/server.hpp"
#include "support/cli_sandbox.hpp"
#include "support/process.hpp"
#include "support/typed_pairs.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

using namespace hubbatch;

namespace {

using test::billing_type;
using test::listing_after_create;
using test::typed_listing;
using test::unlabelled_type;

// 40 contacts with 2 companies each, seeded unlabelled (default type 279).
std::vector<pair_id> pairs_of(std::size_t n) {
  std::vector<pair_id> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back({100 + i / 2, 5000 + i});
  return v;
}

// A sandbox knowing USER_DEFINED:36 "Billing contact" (its labels file in
// its own directory: cli_sandbox makes its scratch directory itself).
sandbox::config with_labels(const test::temp_dir& d, sandbox::config sc = {}) {
  sc.labels_file = test::write_billing_labels(d.file("labels.csv"));
  return sc;
}

struct fixture {
  test::temp_dir config_dir;
  test::cli_sandbox w;
  explicit fixture(std::vector<pair_id> seeded, sandbox::config sc = {})
      : w(std::move(seeded), with_labels(config_dir, std::move(sc))) {}

  test::process_spec run(const std::string& command, std::vector<std::string> extra) const {
    test::process_spec s;
    s.args = {HUBBATCH_BINARY, command,  "--from-type", "contacts", "--to-type", "companies", "--ca-file",
              w.file("ca.pem"), "--base-url", w.sb->base_url(), "--rate", "0", "--quiet"};
    s.args.insert(s.args.end(), extra.begin(), extra.end());
    s.env = {{"HUBSPOT_ACCESS_TOKEN", "pat-na1-create-test"}};
    s.stdout_path = w.file("out.txt");
    s.stderr_path = w.file("err.txt");
    return s;
  }
  std::string err() const { return test::slurp(w.file("err.txt")); }
  std::vector<pair_id> listing() const { return typed_listing(*w.sb); }
  // Labels every seeded pair USER_DEFINED:36 with create --label.
  void label_all() const {
    ASSERT_EQ(test::run(run("create", {"--input", w.file("pairs.csv"), "--label", "USER_DEFINED:36"})), 0) << err();
  }
  std::vector<pair_id> seeded_with(assoc_type t) const {
    auto v = w.pairs;
    for (auto& p : v) p.type = t;
    return v;
  }
};

}  // namespace

TEST(create_cmd, archive_labels_refuses_the_unlabelled_type_unless_told) {
  fixture f(pairs_of(80));
  f.label_all();
  const auto labelled = listing_after_create(f.seeded_with(billing_type));
  ASSERT_EQ(f.listing(), labelled);
  const auto before = f.w.sb->stats();

  EXPECT_EQ(test::run(f.run("archive-labels", {"--input", f.w.file("pairs.csv"), "--label", "HUBSPOT_DEFINED:279"})),
            2);
  std::string err = f.err();
  EXPECT_NE(err.find("HUBSPOT_DEFINED:279"), std::string::npos) << err;
  EXPECT_NE(err.find("unlabelled"), std::string::npos) << err;
  EXPECT_NE(err.find("--include-unlabeled"), std::string::npos) << err;
  auto after = f.w.sb->stats();
  EXPECT_EQ(after.applied_request_pairs, before.applied_request_pairs) << "no batch request";
  EXPECT_LE(after.requests, before.requests + 1) << "at most the GET of the portal's labels";
  EXPECT_EQ(f.listing(), labelled);

  // Told: the unlabelled type goes, and with it the label and the association.
  EXPECT_EQ(test::run(f.run("archive-labels", {"--input", f.w.file("pairs.csv"), "--label", "HUBSPOT_DEFINED:279",
                                               "--include-unlabeled"})),
            0)
      << f.err();
  EXPECT_TRUE(f.listing().empty());
  EXPECT_TRUE(f.w.sb->remaining_pairs("contacts", "companies").empty());
}

TEST(create_cmd, archive_labels_takes_a_label_by_name_case_insensitively) {
  fixture f(pairs_of(80));
  f.label_all();
  EXPECT_EQ(test::run(f.run("archive-labels", {"--input", f.w.file("pairs.csv"), "--label", "billing CONTACT",
                                               "--report", f.w.file("report.json")})),
            0)
      << f.err();
  EXPECT_EQ(f.listing(), listing_after_create(f.w.pairs)) << "only the default type is left";
  EXPECT_EQ(f.w.sb->stats().labels_archived, f.w.pairs.size());
  std::string report = test::slurp(f.w.file("report.json"));
  EXPECT_NE(report.find("\"operation\": \"archive-labels\""), std::string::npos) << report;
}

TEST(create_cmd, an_unknown_label_name_exits_2_listing_the_portals_labels) {
  fixture f(pairs_of(20));
  f.label_all();
  const auto before = f.w.sb->stats();
  for (const char* command : {"archive-labels", "create"}) {
    EXPECT_EQ(test::run(f.run(command, {"--input", f.w.file("pairs.csv"), "--label", "Billing contacts"})), 2)
        << command;
    std::string err = f.err();
    EXPECT_NE(err.find("no such label"), std::string::npos) << err;
    EXPECT_NE(err.find("'Billing contact' (USER_DEFINED:36)"), std::string::npos) << err;
    EXPECT_NE(err.find("unlabelled (HUBSPOT_DEFINED:279)"), std::string::npos) << err;
  }
  EXPECT_EQ(f.w.sb->stats().applied_request_pairs, before.applied_request_pairs);
  EXPECT_EQ(f.listing(), listing_after_create(f.seeded_with(billing_type)));
}

// A line naming the unlabelled type in archive-labels' columns is rejected
// (bad_association_type, the line in the failures file); the others go.
TEST(create_cmd, archive_labels_rejects_a_line_with_the_unlabelled_type) {
  fixture f(pairs_of(20));
  f.label_all();
  auto lines = f.seeded_with(billing_type);
  lines[7].type = unlabelled_type;
  test::write_typed_csv(f.w.file("labels-off.csv"), lines);
  EXPECT_EQ(test::run(f.run("archive-labels", {"--input", f.w.file("labels-off.csv"), "--failures",
                                               f.w.file("failures.csv")})),
            1)
      << f.err();
  // Pair 7 keeps its label and its association; every other pair lost the label.
  auto expected = listing_after_create(f.w.pairs);
  expected = test::listing_union(expected, {pair_id{lines[7].from, lines[7].to, billing_type}});
  EXPECT_EQ(f.listing(), expected);
  auto rows = test::read_failures(f.w.file("failures.csv"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].outcome, "rejected");
  EXPECT_EQ(rows[0].category, "bad_association_type");
  EXPECT_EQ(rows[0].line, "9");  // header is line 1
  EXPECT_NE(rows[0].text.find("HUBSPOT_DEFINED,279"), std::string::npos) << rows[0].text;
}

// Operator mistake: a category column without a type_id column. The header
// is rejected saying which column is missing, and no line that names a
// category is created (least of all without its label). A line whose
// category cell is empty is two ids: an unlabelled pair, as it says.
TEST(create_cmd, a_category_column_without_type_id_creates_nothing_labelled) {
  fixture f({});
  {
    std::ofstream out(f.w.file("half.csv"));
    out << "from_id,to_id,category\n";
    for (int i = 0; i < 10; ++i) out << 100 + i << ',' << 5000 + i << ",USER_DEFINED\n";
    out << "300,7000,\n";
  }
  EXPECT_EQ(test::run(f.run("create", {"--input", f.w.file("half.csv"), "--failures", f.w.file("failures.csv")})), 1);
  std::string err = f.err();
  EXPECT_NE(err.find("wrong_column_count 1"), std::string::npos) << err;  // the summary's rejected line
  EXPECT_EQ(f.listing(), (std::vector<pair_id>{{300, 7000, unlabelled_type}}));
  auto rows = test::read_failures(f.w.file("failures.csv"));
  ASSERT_EQ(rows.size(), 11u);
  EXPECT_EQ(rows[0].category, "wrong_column_count");
  EXPECT_NE(rows[0].message.find("category column but no type_id"), std::string::npos) << rows[0].message;
  for (std::size_t i = 1; i < rows.size(); ++i) EXPECT_EQ(rows[i].outcome, "rejected") << rows[i].text;
}

// Operator mistake (or routine): the failures file of a create fed back as
// --input, with the same --report, re-creates exactly the failed pairs with
// their labels.
TEST(create_cmd, the_failures_file_of_a_create_recreates_its_pairs_with_their_labels) {
  test::temp_dir config_dir;
  std::vector<pair_id> input;
  const std::vector<assoc_type> kinds{billing_type, {1, assoc_category::hubspot_defined}, {}};
  for (std::uint64_t i = 0; i < 60; ++i) input.push_back({100 + i, 5000 + i, kinds[i % 3]});
  // Contacts 100-119 are missing from the first portal: their 20 pairs fail.
  {
    std::ofstream objects(config_dir.file("objects.csv"));
    for (const auto& p : input) {
      if (p.from >= 120) objects << "contacts," << p.from << '\n';
      objects << "companies," << p.to << '\n';
    }
  }
  std::vector<pair_id> failed(input.begin(), input.begin() + 20), created(input.begin() + 20, input.end());
  sandbox::config sc;
  sc.objects_file = config_dir.file("objects.csv");
  fixture first({}, sc);
  test::write_typed_csv(first.w.file("create.csv"), input);
  const std::vector<std::string> outputs{"--report", first.w.file("report.json"), "--failures",
                                         first.w.file("failures.csv")};
  auto args = outputs;
  args.insert(args.begin(), {"--input", first.w.file("create.csv")});
  EXPECT_EQ(test::run(first.run("create", args)), 1) << first.err();
  EXPECT_EQ(first.listing(), listing_after_create(created));
  ASSERT_EQ(test::read_failures(first.w.file("failures.csv")).size(), failed.size());

  // The same files against a portal where the contacts exist now.
  fixture second({});
  io::write_file_atomic(first.w.file("ca.pem"), second.w.sb->ca_pem());
  io::write_file_atomic(first.w.file("retry.csv"), test::slurp(first.w.file("failures.csv")));
  auto retry = outputs;
  retry.insert(retry.begin(), {"--input", first.w.file("retry.csv")});
  auto spec = first.run("create", retry);
  for (auto& a : spec.args)
    if (a == first.w.sb->base_url()) a = second.w.sb->base_url();
  EXPECT_EQ(test::run(spec), 0) << first.err();
  EXPECT_EQ(second.listing(), listing_after_create(failed));
  EXPECT_TRUE(test::read_failures(first.w.file("failures.csv")).empty());
}

// A type id the portal does not have would fail every pair after bisecting
// its batch: it is refused once, before anything is sent.
TEST(create_cmd, a_label_type_id_the_portal_lacks_exits_2_before_sending) {
  fixture f(pairs_of(20));
  const auto before = f.w.sb->stats();
  EXPECT_EQ(test::run(f.run("create", {"--input", f.w.file("pairs.csv"), "--label", "USER_DEFINED:99"})), 2);
  const std::string err = f.err();
  EXPECT_NE(err.find("USER_DEFINED:99: not an association type of contacts -> companies"), std::string::npos) << err;
  EXPECT_NE(err.find("'Billing contact' (USER_DEFINED:36)"), std::string::npos) << err;
  EXPECT_EQ(f.w.sb->stats().applied_request_pairs, before.applied_request_pairs);
}

// A refused token at the label lookup is an auth failure (exit 4), and
// archive-labels does not suggest switching its safety check off for it.
TEST(create_cmd, a_refused_token_at_the_label_lookup_exits_4) {
  sandbox::config sc;
  sc.tokens = {"pat-na1-someone-else"};
  fixture f(pairs_of(5), sc);
  EXPECT_EQ(test::run(f.run("create", {"--input", f.w.file("pairs.csv"), "--label", "Billing contact"})), 4) << f.err();
  EXPECT_EQ(test::run(f.run("archive-labels", {"--input", f.w.file("pairs.csv"), "--label", "USER_DEFINED:36"})), 4)
      << f.err();
  EXPECT_NE(f.err().find("HTTP 401"), std::string::npos) << f.err();
  EXPECT_EQ(f.err().find("--include-unlabeled"), std::string::npos) << f.err();
}

// A name pasted with spaces around it is the same name.
TEST(create_cmd, a_label_name_with_spaces_around_it_resolves) {
  fixture f(pairs_of(5));
  EXPECT_EQ(test::run(f.run("create", {"--input", f.w.file("pairs.csv"), "--label", "  Billing contact "})), 0)
      << f.err();
  EXPECT_EQ(f.listing(), listing_after_create(f.seeded_with(billing_type)));
}
