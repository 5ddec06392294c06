// Issue 13: batch/create, batch/associate/default, batch/labels/archive and
// GET .../labels against the request handler (no sockets), and what they
// leave in the store (/_sandbox/pairs?labels=1).
#include <gtest/gtest.h>

#include <cstdio>

#include "sandbox/handler.hpp"
#include "sandbox/handler_rig.hpp"
#include "sandbox/helpers.hpp"


using namespace hubbatch;
using namespace hubbatch::sandbox;

namespace {

const char* v4 = "/crm/v4/associations/contacts/companies/batch/";
const char* dated = "/crm/associations/2026-03/contacts/companies/batch/";


// A handler over a store seeded with contacts→companies (1, 10), the label
// USER_DEFINED 36 "Billing contact" for every pair and WORK 7 "Mentor" for
// contacts→contacts only.
struct rig : test::handler_rig {
  explicit rig(config c = {})
      : handler_rig(std::move(c), {{1, 10}},
                    "category,type_id,label\nUSER_DEFINED,36,Billing contact\nWORK,7,Mentor,contacts,contacts\n") {}
};

std::string input(std::uint64_t from, std::uint64_t to, const std::string& types) {
  std::string s = R"({"from":{"id":")" + std::to_string(from) + R"("},"to":{"id":")" + std::to_string(to) + "\"}";
  if (!types.empty()) s += ",\"types\":[" + types + "]";
  return s + "}";
}
std::string type(const char* category, int id) {
  return R"({"associationCategory":")" + std::string(category) + R"(","associationTypeId":)" + std::to_string(id) + "}";
}
std::string inputs(const std::vector<std::string>& items) {
  std::string s = "{\"inputs\":[";
  for (std::size_t i = 0; i < items.size(); ++i) s += (i ? "," : "") + items[i];
  return s + "]}";
}

const std::string billing = type("USER_DEFINED", 36);
const std::string primary = type("HUBSPOT_DEFINED", 1);
const std::string unlabelled = type("HUBSPOT_DEFINED", 279);

}  // namespace

TEST(sandbox_api_writes, create_answers_201_on_v4_and_200_dated_with_the_pairs_labels) {
  rig r;
  EXPECT_EQ(r.post(std::string(v4) + "create", inputs({input(2, 20, billing + "," + primary)})), 201);
  EXPECT_EQ(
      r.answer(),
      R"({"status":"COMPLETE","results":[{"fromObjectTypeId":"0-1","fromObjectId":"2","toObjectTypeId":"0-2","toObjectId":"20","labels":["Primary","Billing contact"]}],"startedAt":"TS","completedAt":"TS"})");
  EXPECT_EQ(r.post(std::string(dated) + "create", inputs({input(3, 30, unlabelled)})), 200);
  EXPECT_EQ(
      r.answer(),
      R"({"status":"COMPLETE","results":[{"fromObjectTypeId":"0-1","fromObjectId":"3","toObjectTypeId":"0-2","toObjectId":"30","labels":[]}],"startedAt":"TS","completedAt":"TS"})");
  auto st = r.handler->snapshot(r.now);
  EXPECT_EQ(st.created_pairs, 2u);
  EXPECT_EQ(st.labels_created, 2u);
}

TEST(sandbox_api_writes, create_status_200_replaces_201) {
  config c;
  c.create_status = 200;
  rig r(c);
  EXPECT_EQ(r.post(std::string(v4) + "create", inputs({input(2, 20, billing)})), 200);
}

TEST(sandbox_api_writes, create_is_idempotent_and_a_label_adds_the_default_type) {
  rig r;
  const auto body = inputs({input(2, 20, billing)});
  EXPECT_EQ(r.post(std::string(v4) + "create", body), 201);
  EXPECT_EQ(r.post(std::string(v4) + "create", body), 201);
  EXPECT_EQ(r.handler->snapshot(r.now).created_pairs, 1u);
  EXPECT_EQ(r.handler->snapshot(r.now).labels_created, 1u);
  EXPECT_EQ(r.pairs("from=contacts&to=companies&labels=1"),
            "1,10,HUBSPOT_DEFINED,279\n2,20,HUBSPOT_DEFINED,279\n2,20,USER_DEFINED,36\n");
  // The other direction shows the default as 280, the label as it is.
  EXPECT_EQ(r.pairs("from=companies&to=contacts&labels=1"),
            "10,1,HUBSPOT_DEFINED,280\n20,2,HUBSPOT_DEFINED,280\n20,2,USER_DEFINED,36\n");
  EXPECT_EQ(r.pairs("from=contacts&to=companies"), "1,10\n2,20\n");  // without labels=1: as before issue 13
}

TEST(sandbox_api_writes, the_reverse_direction_turns_type_ids) {
  rig r;
  EXPECT_EQ(r.post("/crm/v4/associations/companies/contacts/batch/create",
                   inputs({input(10, 1, type("HUBSPOT_DEFINED", 2))})),
            201);
  EXPECT_EQ(r.pairs("from=contacts&to=companies&labels=1"), "1,10,HUBSPOT_DEFINED,1\n1,10,HUBSPOT_DEFINED,279\n");
  // 279 is contact→company's; from companies the unlabelled type is 280.
  EXPECT_EQ(r.post("/crm/v4/associations/companies/contacts/batch/labels/archive", inputs({input(10, 1, unlabelled)})),
            400);
}

TEST(sandbox_api_writes, associate_default_answers_200_with_the_default_spec) {
  rig r;
  EXPECT_EQ(r.post(std::string(v4) + "associate/default", inputs({input(4, 40, "")})), 200);
  EXPECT_EQ(
      r.answer(),
      R"({"status":"COMPLETE","results":[{"from":{"id":"4"},"to":{"id":"40"},"associationSpec":{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":279}}],"startedAt":"TS","completedAt":"TS"})");
  EXPECT_EQ(r.post("/crm/associations/2026-09/deals/contacts/batch/associate/default", inputs({input(5, 1, "")})), 200);
  EXPECT_NE(r.answer().find(R"("associationTypeId":3})"), std::string::npos) << r.answer();
  EXPECT_EQ(r.pairs("from=contacts&to=deals&labels=1"), "1,5,HUBSPOT_DEFINED,4\n");
}

TEST(sandbox_api_writes, labels_lists_default_builtin_and_configured_labels_per_pair) {
  rig r;
  EXPECT_EQ(r.run("GET", "/crm/v4/associations/contacts/companies/labels", ""), 200);
  EXPECT_EQ(
      r.answer(),
      R"({"results":[{"category":"HUBSPOT_DEFINED","typeId":279,"label":null},{"category":"HUBSPOT_DEFINED","typeId":1,"label":"Primary"},{"category":"USER_DEFINED","typeId":36,"label":"Billing contact"}]})");
  EXPECT_EQ(r.run("GET", "/crm/associations/2026-03/contact/contact/labels", ""), 200);
  EXPECT_EQ(
      r.answer(),
      R"({"results":[{"category":"HUBSPOT_DEFINED","typeId":449,"label":null},{"category":"USER_DEFINED","typeId":36,"label":"Billing contact"},{"category":"WORK","typeId":7,"label":"Mentor"}]})");
  EXPECT_EQ(r.run("POST", "/crm/v4/associations/contacts/companies/labels", ""), 405);
  EXPECT_EQ(r.handler->snapshot(r.now).accepted, 2u);  // counted like any call
}

TEST(sandbox_api_writes, labels_archive_removes_only_the_listed_types) {
  rig r;
  r.post(std::string(v4) + "create", inputs({input(2, 20, billing + "," + primary), input(1, 10, billing)}));
  EXPECT_EQ(r.post(std::string(v4) + "labels/archive", inputs({input(2, 20, billing), input(1, 10, billing)})), 204);
  EXPECT_EQ(r.out.find("Content-Type"), std::string::npos);
  EXPECT_EQ(r.pairs("from=contacts&to=companies&labels=1"),
            "1,10,HUBSPOT_DEFINED,279\n2,20,HUBSPOT_DEFINED,1\n2,20,HUBSPOT_DEFINED,279\n");
  EXPECT_EQ(r.post(std::string(dated) + "labels/archive", inputs({input(2, 20, primary), input(8, 80, primary)})), 200);
  EXPECT_EQ(r.answer(), R"({"status":"COMPLETE","results":[],"startedAt":"TS","completedAt":"TS"})");
  EXPECT_EQ(r.handler->snapshot(r.now).labels_archived, 3u);
  EXPECT_EQ(r.pairs("from=contacts&to=companies"), "1,10\n2,20\n");
}

TEST(sandbox_api_writes, removing_the_unlabelled_type_removes_every_label) {
  rig r;
  r.post(std::string(v4) + "create", inputs({input(2, 20, billing + "," + primary)}));
  EXPECT_EQ(r.post(std::string(v4) + "labels/archive", inputs({input(2, 20, unlabelled)})), 204);
  EXPECT_EQ(r.pairs("from=contacts&to=companies&labels=1"), "1,10,HUBSPOT_DEFINED,279\n");
}

TEST(sandbox_api_writes, create_then_archive_leaves_the_store_as_it_began) {
  rig r;
  const std::string before = r.pairs("from=contacts&to=companies&labels=1");
  r.post(std::string(v4) + "create", inputs({input(2, 20, billing), input(3, 30, primary)}));
  r.post(std::string(v4) + "associate/default", inputs({input(4, 40, "")}));
  EXPECT_NE(r.pairs("from=contacts&to=companies&labels=1"), before);
  EXPECT_EQ(r.post(std::string(v4) + "archive", test::archive_body({{2, 20}, {3, 30}, {4, 40}})), 204);
  EXPECT_EQ(r.pairs("from=contacts&to=companies&labels=1"), before);
  EXPECT_EQ(r.store.remaining_total(), 1u);
}

TEST(sandbox_api_writes, unknown_records_fail_their_input_with_context_ids) {
  config c;
  c.objects_file = test::scratch_file("api_writes_objects.csv", "type,id\ncontact,1\ncontacts,2\n0-2,10\ncompany,20\n");
  rig r(c);
  EXPECT_EQ(r.post(std::string(v4) + "create",
                   inputs({input(123, 10, billing), input(2, 20, billing), input(1, 99, billing)})),
            207);
  EXPECT_EQ(
      r.answer(),
      R"({"status":"COMPLETE","results":[{"fromObjectTypeId":"0-1","fromObjectId":"2","toObjectTypeId":"0-2","toObjectId":"20","labels":["Billing contact"]}],"numErrors":2,"errors":[{"status":"error","category":"VALIDATION_ERROR","subCategory":"crm.associations.INVALID_OBJECT_IDS","message":"No contact with id 123 exists","context":{"fromObjectId":["123"]},"errors":[]},{"status":"error","category":"VALIDATION_ERROR","subCategory":"crm.associations.INVALID_OBJECT_IDS","message":"No company with id 99 exists","context":{"toObjectId":["99"]},"errors":[]}],"startedAt":"TS","completedAt":"TS"})");
  EXPECT_EQ(r.post(std::string(dated) + "associate/default", inputs({input(7, 10, "")})), 200);
  EXPECT_NE(r.answer().find(R"("numErrors":1,"errors":[{"status":"error")"), std::string::npos) << r.answer();
  EXPECT_EQ(r.post(std::string(v4) + "labels/archive", inputs({input(7, 70, unlabelled)})), 204);  // unaffected
  EXPECT_EQ(r.pairs("from=contacts&to=companies"), "1,10\n2,20\n");
  EXPECT_EQ(r.handler->snapshot(r.now).failed_inputs, 3u);
}

TEST(sandbox_api_writes, the_association_limit_fails_new_associations_only) {
  config c;
  c.max_associations_per_record = 2;
  rig r(c);  // contact 1 already has company 10
  EXPECT_EQ(r.post(std::string(v4) + "create",
                   inputs({input(1, 11, unlabelled), input(1, 12, unlabelled), input(1, 10, billing)})),
            207);
  EXPECT_EQ(
      r.answer(),
      R"({"status":"COMPLETE","results":[{"fromObjectTypeId":"0-1","fromObjectId":"1","toObjectTypeId":"0-2","toObjectId":"11","labels":[]},{"fromObjectTypeId":"0-1","fromObjectId":"1","toObjectTypeId":"0-2","toObjectId":"10","labels":["Billing contact"]}],"numErrors":1,"errors":[{"status":"error","category":"VALIDATION_ERROR","subCategory":"crm.associations.ASSOCIATION_LIMIT_EXCEEDED","message":"Association limit exceeded: contact 1 already has the maximum of 2 associated company records","context":{"fromObjectId":["1"],"toObjectId":["12"]},"errors":[]}],"startedAt":"TS","completedAt":"TS"})");
  // The to side counts too: company 11 gets a second contact, not a third.
  EXPECT_EQ(r.post("/crm/v4/associations/companies/contacts/batch/associate/default",
                   inputs({input(11, 5, ""), input(11, 6, "")})),
            200);
  EXPECT_NE(r.answer().find("company 11 already has the maximum of 2 associated contact records"), std::string::npos)
      << r.answer();
  // Archiving frees a place.
  r.post(std::string(v4) + "archive", test::archive_body({{1, 11}}));
  EXPECT_EQ(r.post(std::string(v4) + "create", inputs({input(1, 12, unlabelled)})), 201);
}

TEST(sandbox_api_writes, an_undefined_or_malformed_type_fails_the_whole_request_without_ids) {
  rig r;
  EXPECT_EQ(r.post(std::string(v4) + "create", inputs({input(2, 20, billing), input(3, 30, type("USER_DEFINED", 99))})),
            400);
  EXPECT_EQ(
      r.answer(),
      R"({"status":"error","message":"USER_DEFINED:99 is not a valid association type between contacts and companies","correlationId":"CID","category":"VALIDATION_ERROR","subCategory":"crm.associations.INVALID_ASSOCIATION_TYPE","context":{"type":["USER_DEFINED:99"]}})");
  EXPECT_EQ(r.post(std::string(v4) + "labels/archive", inputs({input(1, 10, type("WORK", 7))})),
            400);  // contacts→contacts only
  EXPECT_EQ(r.post(std::string(v4) + "create", inputs({input(2, 20, type("SOMETHING", 1))})), 400);
  EXPECT_NE(
      r.answer().find(R"("category":"VALIDATION_ERROR","subCategory":"crm.associations.INVALID_ASSOCIATION_TYPE")"),
      std::string::npos)
      << r.answer();
  EXPECT_EQ(r.post(std::string(v4) + "create", inputs({input(2, 20, type("USER_DEFINED", 0))})), 400);
  EXPECT_EQ(r.post(std::string(v4) + "create", inputs({input(2, 20, type("USER_DEFINED", -36))})), 400);
  EXPECT_EQ(r.post(std::string(v4) + "create",
                   inputs({input(2, 20, R"({"associationCategory":"USER_DEFINED","associationTypeId":2147483648})")})),
            400);
  EXPECT_EQ(r.post(std::string(v4) + "create", inputs({input(2, 20, "")})), 400);  // types required
  EXPECT_NE(r.answer().find("Missing required creator property 'types'"), std::string::npos) << r.answer();
  EXPECT_EQ(r.post(std::string(v4) + "create", "{\"inputs\":[{\"from\":"), 400);
  EXPECT_EQ(r.pairs("from=contacts&to=companies"), "1,10\n");
  EXPECT_EQ(r.handler->snapshot(r.now).by_status[400], 8u);
}

TEST(sandbox_api_writes, max_inputs_counts_create_inputs) {
  config c;
  c.max_inputs = input_limits::all(2);
  rig r(c);
  EXPECT_EQ(
      r.post(std::string(v4) + "create", inputs({input(2, 20, billing), input(3, 30, billing), input(4, 40, billing)})),
      400);
  EXPECT_NE(r.answer().find("The maximum number of inputs supported in a batch is 2."), std::string::npos)
      << r.answer();
  EXPECT_EQ(
      r.post(std::string(v4) + "associate/default", inputs({input(2, 20, ""), input(3, 30, ""), input(4, 40, "")})),
      400);
  EXPECT_EQ(r.post(std::string(v4) + "create", inputs({input(2, 20, billing), input(3, 30, billing)})), 201);
}

TEST(sandbox_api_writes, rate_limits_and_faults_apply_to_the_new_routes) {
  config c;
  c.fault_5xx = 1;
  rig faulty(c);
  EXPECT_GE(faulty.post(std::string(v4) + "create", inputs({input(2, 20, billing)})), 500);
  EXPECT_EQ(faulty.pairs("from=contacts&to=companies"), "1,10\n");  // nothing applied
  rig limited;
  limited.cfg.rate = rate_spec{1, std::chrono::milliseconds(10'000)};
  EXPECT_EQ(limited.run("GET", "/crm/v4/associations/contacts/companies/labels", ""), 200);
  EXPECT_EQ(limited.post(std::string(v4) + "create", inputs({input(2, 20, billing)})), 429);
}

TEST(sandbox_api_writes, bad_labels_and_objects_files_are_refused_with_file_and_line) {
  auto refused = [](config c, const std::string& want) {
    association_store store;
    store.finalize();
    try {
      request_handler h(c, store, clock_reading{});
      ADD_FAILURE() << "accepted; wanted: " << want;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
  };
  config a;
  a.labels_file = test::scratch_file("api_writes_bad_labels.csv", "USER_DEFINED,36,Billing\nUSER_DEFINED,x,Oops\n");
  refused(a, "labels file " + a.labels_file + " line 2");
  config b;
  b.labels_file = test::scratch_file("api_writes_bad_labels2.csv", "\nSOMETIMES,36,Billing\n");
  refused(b, "line 2: category");
  config d;
  d.labels_file = test::scratch_file("api_writes_bad_labels3.csv", "USER_DEFINED,36,Billing,contacts,widgets\n");
  refused(d, "line 1: unknown object type 'widgets'");
  config o;
  o.objects_file = test::scratch_file("api_writes_bad_objects.csv", "contact,1\ncontact,1x\n");
  refused(o, "objects file " + o.objects_file + " line 2");
  config o2;
  o2.objects_file = test::scratch_file("api_writes_bad_objects2.csv", "type,id\nwidget,1\n");
  refused(o2, "line 2: unknown object type 'widget'");
}
