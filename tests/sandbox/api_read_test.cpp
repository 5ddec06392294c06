// batch/read against the request handler (no sockets): the answer's shapes
// per version, paging, the input cap, errors[] items, the stages every API
// route goes through, and --fault-ignore on the archives.
#include <gtest/gtest.h>

#include <set>

#include "sandbox/generated_pairs.hpp"
#include "sandbox/handler.hpp"
#include "sandbox/handler_rig.hpp"
#include "sandbox/helpers.hpp"


using namespace hubbatch;
using namespace hubbatch::sandbox;

namespace {

const char* v4 = "/crm/v4/associations/contacts/companies/batch/";
const char* v4_reverse = "/crm/v4/associations/companies/contacts/batch/";


// A handler over contacts→companies seeds (1, 10), (1, 11) and (2, 10), with
// the label USER_DEFINED 36 "Billing contact".
struct rig : test::handler_rig {
  explicit rig(config c = {}, std::vector<pair_id> seed = {{1, 10}, {1, 11}, {2, 10}})
      : handler_rig(std::move(c), seed, "category,type_id,label\nUSER_DEFINED,36,Billing contact\n") {}
};

// {"inputs":[{"id":"1"},{"id":"2","after":"X"}]}: an empty after is left out.
std::string reads(const std::vector<std::pair<std::uint64_t, std::string>>& ids) {
  std::string s = "{\"inputs\":[";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    s += (i ? ",{\"id\":\"" : "{\"id\":\"") + std::to_string(ids[i].first) + "\"";
    if (!ids[i].second.empty()) s += ",\"after\":\"" + ids[i].second + "\"";
    s += '}';
  }
  return s + "]}";
}

std::string create_input(std::uint64_t from, std::uint64_t to, const char* category, int id) {
  return R"({"from":{"id":")" + std::to_string(from) + R"("},"to":{"id":")" + std::to_string(to) +
         R"("},"types":[{"associationCategory":")" + category + R"(","associationTypeId":)" + std::to_string(id) +
         "}]}";
}

}  // namespace

TEST(sandbox_api_read, answers_each_records_types_in_the_request_direction_with_labels_named) {
  rig r;
  ASSERT_EQ(r.post(std::string(v4) + "create", "{\"inputs\":[" + create_input(1, 10, "USER_DEFINED", 36) + "]}"), 201);
  EXPECT_EQ(r.post(std::string(v4) + "read", reads({{2, ""}, {1, ""}})), 200);
  EXPECT_EQ(
      r.answer(),
      R"({"status":"COMPLETE","results":[)"
      R"({"from":{"id":"2"},"to":[{"toObjectId":10,"associationTypes":[{"category":"HUBSPOT_DEFINED","typeId":279,"label":null}]}]},)"
      R"({"from":{"id":"1"},"to":[{"toObjectId":10,"associationTypes":[{"category":"HUBSPOT_DEFINED","typeId":279,"label":null},{"category":"USER_DEFINED","typeId":36,"label":"Billing contact"}]},)"
      R"({"toObjectId":11,"associationTypes":[{"category":"HUBSPOT_DEFINED","typeId":279,"label":null}]}]}],)"
      R"("startedAt":"TS","completedAt":"TS"})");
  // From the companies side: company→contact's unlabelled type is 280; Primary turns (1 → 2).
  ASSERT_EQ(r.post(std::string(v4) + "create", "{\"inputs\":[" + create_input(2, 10, "HUBSPOT_DEFINED", 1) + "]}"),
            201);
  EXPECT_EQ(r.post(std::string(v4_reverse) + "read", reads({{10, ""}})), 200);
  EXPECT_EQ(
      r.answer(),
      R"({"status":"COMPLETE","results":[{"from":{"id":"10"},"to":[)"
      R"({"toObjectId":1,"associationTypes":[{"category":"HUBSPOT_DEFINED","typeId":280,"label":null},{"category":"USER_DEFINED","typeId":36,"label":"Billing contact"}]},)"
      R"({"toObjectId":2,"associationTypes":[{"category":"HUBSPOT_DEFINED","typeId":2,"label":"Primary"},{"category":"HUBSPOT_DEFINED","typeId":280,"label":null}]}]}],)"
      R"("startedAt":"TS","completedAt":"TS"})");
  auto st = r.handler->snapshot(r.now);
  EXPECT_EQ(st.read_requests, 2u);
  EXPECT_EQ(st.read_records, 3u);
}

TEST(sandbox_api_read, a_record_without_associations_is_an_error_item_207_but_200_on_2026_09) {
  rig r;
  const std::string item =
      R"({"status":"error","category":"OBJECT_NOT_FOUND","subCategory":"crm.associations.NO_ASSOCIATIONS_FOUND",)"
      R"("message":"No company is associated with contact 5.","context":{"fromObjectId":["5"],)"
      R"("fromObjectType":["contact"],"toObjectType":["company"]},"errors":[]})";
  const std::string two_results =
      R"({"status":"COMPLETE","results":[{"from":{"id":"2"},"to":[{"toObjectId":10,"associationTypes":[{"category":"HUBSPOT_DEFINED","typeId":279,"label":null}]}]}],)"
      R"("numErrors":1,"errors":[)" +
      item + R"(],"startedAt":"TS","completedAt":"TS"})";
  for (std::string prefix : {"/crm/v4/associations", "/crm/associations/2025-09", "/crm/associations/2026-03",
                             "/crm/associations/2026-09"}) {
    const int want = prefix.ends_with("2026-09") ? 200 : 207;
    EXPECT_EQ(r.post(prefix + "/contacts/companies/batch/read", reads({{5, ""}, {2, ""}})), want) << prefix;
    EXPECT_EQ(r.answer(), two_results) << prefix;
  }
  // Only errors: results is empty.
  EXPECT_EQ(r.post(std::string(v4) + "read", reads({{5, ""}})), 207);
  EXPECT_EQ(r.answer(), R"({"status":"COMPLETE","results":[],"numErrors":1,"errors":[)" + item +
                            R"(],"startedAt":"TS","completedAt":"TS"})");
  // An object-type pair the store has never seen: nothing is associated.
  EXPECT_EQ(r.post("/crm/v4/associations/deals/tickets/batch/read", reads({{5, ""}})), 207);
  EXPECT_NE(r.answer().find("No ticket is associated with deal 5."), std::string::npos) << r.answer();
}

TEST(sandbox_api_read, paging_returns_every_association_exactly_once_in_to_id_order) {
  config c;
  c.read_page_size = 4;
  std::vector<pair_id> seed;
  for (std::uint64_t to = 1; to <= 10; ++to) seed.push_back({7, 9000 + to});
  seed.push_back({8, 9001});
  rig r(c, seed);
  std::vector<std::uint64_t> seen;
  std::string after;
  int pages = 0;
  for (;; ++pages) {
    ASSERT_EQ(r.post(std::string(v4) + "read", reads({{7, after}, {8, ""}})), 200) << r.answer();
    const std::string a = r.answer();
    for (auto at = a.find("\"toObjectId\":"); at != std::string::npos; at = a.find("\"toObjectId\":", at + 1))
      seen.push_back(std::stoull(a.substr(at + 13)));
    seen.pop_back();  // record 8's 9001, answered on every page
    auto p = a.find(R"("paging":{"next":{"after":")");
    if (p == std::string::npos) break;
    p += 27;
    after = a.substr(p, a.find('"', p) - p);
    if (pages == 0) {
      EXPECT_EQ(after, "OTAwNA==");  // base64("9004")
    }
  }
  EXPECT_EQ(pages, 2);
  std::vector<std::uint64_t> want;
  for (std::uint64_t to = 1; to <= 10; ++to) want.push_back(9000 + to);
  EXPECT_EQ(seen, want);
  // Archived between pages: the next page starts after the cursor all the same.
  ASSERT_EQ(r.post(std::string(v4) + "read", reads({{7, ""}})), 200);
  ASSERT_EQ(r.post(std::string(v4) + "archive", test::archive_body({{7, 9005}, {7, 9002}})), 204);
  ASSERT_EQ(r.post(std::string(v4) + "read", reads({{7, "OTAwNA=="}})), 200);
  EXPECT_NE(r.answer().find(R"("to":[{"toObjectId":9006,)"), std::string::npos) << r.answer();
  // A cursor past the last one: nothing more to list.
  ASSERT_EQ(r.post(std::string(v4) + "read", reads({{7, "OTAxMA=="}})), 207);
  EXPECT_NE(r.answer().find("NO_ASSOCIATIONS_FOUND"), std::string::npos);
}

TEST(sandbox_api_read, a_cursor_it_did_not_give_out_is_a_400) {
  rig r;
  for (std::string bad :
       {"xyz", "OTAwNA", "OTAwNA=", "YWJj", "b3RhbA==", "MTg0NDY3NDQwNzM3MDk1NTE2MTU=", "=AAA", "MDA5MDA0"}) {
    EXPECT_EQ(r.post(std::string(v4) + "read", reads({{1, ""}, {2, bad}})), 400) << bad;
    EXPECT_NE(r.answer().find(R"("category":"VALIDATION_ERROR","context":{"fromObjectId":["2"]})"), std::string::npos)
        << r.answer();
  }
  EXPECT_EQ(r.post(std::string(v4) + "read", R"({"inputs":[{"id":"1","after":null},{"id":"2","after":""}]})"), 200);
  EXPECT_EQ(r.handler->snapshot(r.now).by_status.at(400), 8u);
}

TEST(sandbox_api_read, more_than_max_read_inputs_is_a_400_with_hubspots_text) {
  rig r;
  std::vector<std::pair<std::uint64_t, std::string>> ids;
  for (std::uint64_t i = 1; i <= 1000; ++i) ids.emplace_back(i, "");
  EXPECT_EQ(r.post(std::string(v4) + "read", reads(ids)), 207);  // the cap is 1,000, not create's 100
  ids.emplace_back(1001, "");
  EXPECT_EQ(r.post(std::string(v4) + "read", reads(ids)), 400);
  EXPECT_EQ(r.answer(),
            R"({"status":"error","message":"The maximum number of inputs supported in a batch is 1000. Please reduce )"
            R"(the number of items and try again","correlationId":"CID","category":"VALIDATION_ERROR"})");
  config c;
  c.max_read_inputs = 2;
  rig small(c);
  EXPECT_EQ(small.post(std::string(v4) + "read", reads({{1, ""}, {2, ""}})), 200);
  EXPECT_EQ(small.post(std::string(v4) + "read", reads({{1, ""}, {2, ""}, {3, ""}})), 400);
  c.max_read_inputs = 0;
  rig open(c);
  ids.emplace_back(1002, "");
  EXPECT_EQ(open.post(std::string(v4) + "read", reads(ids)), 207);
}

TEST(sandbox_api_read, bodies_are_validated_as_for_the_other_routes) {
  rig r;
  EXPECT_EQ(r.post(std::string(v4) + "read", ""), 400);
  EXPECT_EQ(r.post(std::string(v4) + "read", R"({"inputs":[{"id":1}]})"), 400);  // ids are strings
  EXPECT_NE(r.answer().find("java.lang.String"), std::string::npos) << r.answer();
  EXPECT_EQ(r.post(std::string(v4) + "read", R"({"inputs":[{"after":"OTAwNA=="}]})"), 400);
  EXPECT_NE(r.answer().find("Missing required creator property 'id'"), std::string::npos) << r.answer();
  EXPECT_EQ(r.post(std::string(v4) + "read", R"({"inputs":[{"id":"1","after":5}]})"), 400);
  EXPECT_EQ(r.post(std::string(v4) + "read", R"({"inputs":[{"id":"x1"}]})"), 400);
  EXPECT_NE(r.answer().find("INVALID_IDENTIFIER"), std::string::npos) << r.answer();
  EXPECT_EQ(r.post(std::string(v4) + "read", R"({"inputs":[1]})"), 400);
  EXPECT_NE(r.answer().find("PublicFetchAssociationsBatchRequest"), std::string::npos) << r.answer();
  EXPECT_EQ(r.post(std::string(v4) + "read", R"({"inputs":[{"id":"1","extra":{"a":[1]}}],"x":1})"), 200);
  EXPECT_EQ(r.run("GET", std::string(v4) + "read", ""), 405);
  EXPECT_EQ(r.post("/crm/v4/associations/contacts/vendors/batch/read", reads({{1, ""}})), 400);
  config c;
  c.reject_ids = {2};
  rig rejecting(c);
  EXPECT_EQ(rejecting.post(std::string(v4) + "read", reads({{1, ""}, {2, ""}})), 400);
  EXPECT_NE(rejecting.answer().find(R"("fromObjectId":["2"])"), std::string::npos) << rejecting.answer();
}

TEST(sandbox_api_read, a_record_objects_does_not_list_is_a_validation_error_item) {
  config c;
  c.objects_file = test::scratch_file("api_read_objects.csv", "type,id\ncontact,1\ncontact,3\n");
  rig r(c);
  EXPECT_EQ(r.post(std::string(v4) + "read", reads({{2, ""}, {1, ""}, {3, ""}})), 207);
  const std::string a = r.answer();
  EXPECT_NE(a.find(R"("numErrors":2,"errors":[{"status":"error","category":"VALIDATION_ERROR",)"
                   R"("subCategory":"crm.associations.INVALID_OBJECT_IDS","message":"No contact with id 2 exists",)"
                   R"("context":{"fromObjectId":["2"]},"errors":[]},{"status":"error","category":"OBJECT_NOT_FOUND")"),
            std::string::npos)
      << a;
  EXPECT_NE(a.find(R"("results":[{"from":{"id":"1"})"), std::string::npos) << a;
}

TEST(sandbox_api_read, scopes_rate_limits_and_faults_apply) {
  config scopes;
  scopes.missing_scopes = true;
  rig s(scopes);
  EXPECT_EQ(s.post(std::string(v4) + "read", reads({{1, ""}})), 403);
  EXPECT_NE(s.answer().find(R"(["crm.objects.contacts.read","crm.objects.companies.read"])"), std::string::npos)
      << s.answer();

  config limited;
  limited.rate = rate_spec{1, std::chrono::milliseconds(10'000)};
  rig l(limited);
  EXPECT_EQ(l.post(std::string(v4) + "read", reads({{1, ""}})), 200);
  EXPECT_NE(l.out.find("X-HubSpot-RateLimit-Remaining: 0\r\n"), std::string::npos) << l.out;
  EXPECT_EQ(l.post(std::string(v4) + "read", reads({{1, ""}})), 429);
  config daily;
  daily.daily = 1;
  rig d(daily);
  EXPECT_EQ(d.post(std::string(v4) + "read", reads({{1, ""}})), 200);
  EXPECT_EQ(d.post(std::string(v4) + "read", reads({{1, ""}})), 429);
  EXPECT_NE(d.answer().find("\"policyName\":\"DAILY\""), std::string::npos);

  config faults;
  faults.fault_5xx = 1;
  rig f(faults);
  EXPECT_GE(f.post(std::string(v4) + "read", reads({{1, ""}})), 500);
  faults.fault_5xx = 0;
  faults.fault_garbage = 1;
  rig g(faults);
  EXPECT_EQ(g.post(std::string(v4) + "read", reads({{1, ""}})), 200);
  EXPECT_EQ(g.handler->snapshot(g.now).faults.garbage, 1u);
  EXPECT_EQ(g.handler->snapshot(g.now).read_requests, 0u);
  faults.fault_garbage = 0;
  faults.fault_reset = 1;
  rig reset(faults);
  EXPECT_EQ(reset.post(std::string(v4) + "read", reads({{1, ""}})), 0);  // 0: the connection was reset
}

TEST(sandbox_api_read, fault_ignore_answers_success_and_keeps_the_pairs) {
  config c;
  c.fault_ignore = 1;
  rig r(c);
  EXPECT_EQ(r.post(std::string(v4) + "archive", test::archive_body({{1, 10}, {2, 10}, {3, 30}})), 204);
  EXPECT_EQ(r.pairs("from=contacts&to=companies"), "1,10\n1,11\n2,10\n");
  EXPECT_EQ(
      r.post(std::string(v4) + "labels/archive", "{\"inputs\":[" + create_input(1, 11, "HUBSPOT_DEFINED", 279) + "]}"),
      204);
  EXPECT_EQ(r.pairs("from=contacts&to=companies"), "1,10\n1,11\n2,10\n");
  auto st = r.handler->snapshot(r.now);
  EXPECT_EQ(st.ignored_pairs, 3u);  // the present ones; (3, 30) was not there to keep
  EXPECT_EQ(st.archived_pairs, 0u);

  // A probability between: some go, the others stay, and the answer is the same.
  config half;
  half.fault_ignore = 0.5;
  half.fault_seed = 14;
  std::vector<pair_id> seed;
  for (std::uint64_t to = 1; to <= 100; ++to) seed.push_back({1, to});
  rig h(half, seed);
  EXPECT_EQ(h.post(std::string(v4) + "archive", test::archive_body(seed)), 204);
  auto hs = h.handler->snapshot(h.now);
  EXPECT_GT(hs.ignored_pairs, 20u);
  EXPECT_LT(hs.ignored_pairs, 80u);
  EXPECT_EQ(hs.ignored_pairs + hs.archived_pairs, 100u);
  EXPECT_EQ(hs.remaining_pairs, hs.ignored_pairs);
}

// Issue 15: a store seeded with --seed-generated answers archives (present,
// absent, archived twice) and reads (both directions, paged) exactly as one
// seeded with the same pairs from a file.
TEST(sandbox_api_read, a_generated_seed_answers_as_the_same_pairs_seeded) {
  config generated_cfg;
  generated_cfg.seed_generated = {2000, 5};  // contacts → companies
  generated_cfg.read_page_size = 3;
  config plain_cfg;
  plain_cfg.read_page_size = 3;
  std::vector<pair_id> pairs;
  generated_pairs(2000, 5).each([&](std::uint64_t, pair_id p) { pairs.push_back(p); });
  rig generated(generated_cfg, {});
  rig plain(plain_cfg, pairs);
  auto both = [&](const std::string& target, const std::string& body) {
    const int status = plain.post(target, body);
    EXPECT_EQ(generated.post(target, body), status) << target << " " << body;
    EXPECT_EQ(generated.answer(), plain.answer()) << target << " " << body;
  };
  for (int round = 0; round < 2; ++round) {
    for (std::size_t i = 0; i < 600; i += 50) {
      std::vector<pair_id> batch(pairs.begin() + static_cast<std::ptrdiff_t>(i),
                                 pairs.begin() + static_cast<std::ptrdiff_t>(i + 50));
      batch.push_back({pairs[i + 60].from, 12345});  // absent
      both(std::string(v4) + "archive", test::archive_body(batch));
    }
  }
  for (std::size_t i = 0; i < 1200; i += 90) {
    both(std::string(v4) + "read", reads({{pairs[i].from, ""}, {pairs[i + 1].from, ""}, {pairs[i + 700].from, ""}}));
    both(std::string(v4_reverse) + "read", reads({{pairs[i].to, ""}, {pairs[i + 800].to, ""}}));
  }
  EXPECT_EQ(generated.pairs("from=contacts&to=companies"), plain.pairs("from=contacts&to=companies"));
  EXPECT_EQ(generated.store.remaining_total(), 2000u - 600u);
}
