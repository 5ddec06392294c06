#include "codec/read_response.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

namespace {

using namespace hubbatch;
using namespace hubbatch::codec;

decoded_read decode(std::string body) {
  read_response_decoder decoder;
  decoded_read out;
  decoder.decode(body, out);
  return out;
}

// (from, to, "CATEGORY:id", label) per row, for comparing whole answers.
using row_view = std::tuple<std::uint64_t, std::uint64_t, std::string, std::string>;
std::vector<row_view> rows(const decoded_read& r) {
  std::vector<row_view> v;
  for (const auto& row : r.rows) v.emplace_back(row.from, row.to, to_string(row.type), row.label);
  return v;
}

const std::string two_pages =
    R"({"status":"COMPLETE","results":[)"
    R"({"from":{"id":"101"},"to":[{"toObjectId":9001,"associationTypes":[{"category":"HUBSPOT_DEFINED","typeId":279,"label":null},)"
    R"({"category":"USER_DEFINED","typeId":36,"label":"Billing contact"}]},{"toObjectId":9002,"associationTypes":[)"
    R"({"category":"HUBSPOT_DEFINED","typeId":279,"label":null}]}],"paging":{"next":{"after":"OTAwMg==","link":"?after=OTAwMg=="}}},)"
    R"({"from":{"id":"102"},"to":[{"toObjectId":9001,"associationTypes":[{"category":"HUBSPOT_DEFINED","typeId":1,"label":"Primary"}]}]}],)"
    R"("numErrors":1,"errors":[{"status":"error","category":"OBJECT_NOT_FOUND","subCategory":"crm.associations.NO_ASSOCIATIONS_FOUND",)"
    R"("message":"No company is associated with contact 103.","context":{"fromObjectId":["103"],"fromObjectType":["contact"],)"
    R"("toObjectType":["company"]},"errors":[]}],"startedAt":"2026-08-20T10:00:00.120Z","completedAt":"2026-08-20T10:00:00.183Z"})";

}  // namespace

TEST(read_response, decodes_rows_per_type_cursors_and_error_items) {
  auto r = decode(two_pages);
  EXPECT_EQ(r.kind, body_kind::json_object);
  EXPECT_EQ(r.status, "COMPLETE");
  EXPECT_EQ(rows(r), (std::vector<row_view>{{101, 9001, "HUBSPOT_DEFINED:279", ""},
                                            {101, 9001, "USER_DEFINED:36", "Billing contact"},
                                            {101, 9002, "HUBSPOT_DEFINED:279", ""},
                                            {102, 9001, "HUBSPOT_DEFINED:1", "Primary"}}));
  ASSERT_EQ(r.next.size(), 1u);
  EXPECT_EQ(r.next[0].from, 101u);
  EXPECT_EQ(r.next[0].after, "OTAwMg==");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.num_errors, 1);
  EXPECT_EQ(r.errors[0].category, "OBJECT_NOT_FOUND");
  EXPECT_EQ(r.errors[0].sub_category, "crm.associations.NO_ASSOCIATIONS_FOUND");
  EXPECT_EQ(r.errors[0].message, "No company is associated with contact 103.");
  EXPECT_EQ(r.errors[0].from_ids, std::vector<std::uint64_t>{103});  // "contact" is not an id
  EXPECT_TRUE(r.errors[0].to_ids.empty());
  EXPECT_EQ(r.skipped, 0u);
}

TEST(read_response, members_in_any_order_and_ids_as_strings_or_numbers) {
  auto r = decode(
      R"({"results":[{"paging":{"next":{"after":"C1"}},"to":[{"associationTypes":[{"label":"L","typeId":5,"category":"work"}],)"
      R"("toObjectId":"7"}],"from":{"id":12}}],"status":"COMPLETE"})");
  EXPECT_EQ(rows(r), (std::vector<row_view>{{12, 7, "WORK:5", "L"}}));
  ASSERT_EQ(r.next.size(), 1u);
  EXPECT_EQ(r.next[0].from, 12u);
  EXPECT_EQ(r.next[0].after, "C1");
  EXPECT_EQ(r.num_errors, 0);
}

TEST(read_response, no_paging_or_a_null_cursor_means_the_last_page) {
  for (const char* paging : {"", R"(,"paging":null)", R"(,"paging":{})", R"(,"paging":{"next":null})",
                             R"(,"paging":{"next":{"after":null}})", R"(,"paging":{"next":{"link":"x"}})"}) {
    auto r = decode(std::string(R"({"results":[{"from":{"id":"1"},"to":[{"toObjectId":2,"associationTypes":[]}])") +
                    paging + "}]}");
    EXPECT_TRUE(r.next.empty()) << paging;
    // A pair with no readable type is still a pair.
    EXPECT_EQ(rows(r), (std::vector<row_view>{{1, 2, "", ""}})) << paging;
  }
}

TEST(read_response, a_cursor_unfit_to_send_back_is_kept_as_empty) {
  for (std::string after :
       std::vector<std::string>{R"("a b")", R"("a\"b")", R"("a\\b")", R"("")", R"("\u0001")", R"({"x":1})", "[1]",
                                "true", "\"" + std::string(max_cursor_bytes + 1, 'A') + "\""}) {
    auto r = decode(R"({"results":[{"from":{"id":"1"},"to":[],"paging":{"next":{"after":)" + after + "}}}]}");
    ASSERT_EQ(r.next.size(), 1u) << after;
    EXPECT_EQ(r.next[0].after, "") << after;
  }
  auto r = decode(R"({"results":[{"from":{"id":"1"},"to":[],"paging":{"next":{"after":12345}}}]})");
  ASSERT_EQ(r.next.size(), 1u);
  EXPECT_EQ(r.next[0].after, "12345");
}

TEST(read_response, parts_that_do_not_decode_are_skipped_and_counted) {
  auto r = decode(
      R"({"results":[7,{"to":[{"toObjectId":1}]},{"from":{"id":"x"},"to":[]},)"
      R"({"from":{"id":"5"},"to":[3,{"associationTypes":[]},{"toObjectId":-1},{"toObjectId":2.5},)"
      R"({"toObjectId":9,"associationTypes":[1,{"category":"OTHER","typeId":3},{"category":"WORK","typeId":0},)"
      R"({"category":"WORK","typeId":2147483648},{"category":"WORK","typeId":"4"},{"category":"WORK","typeId":4}]}]}]})");
  EXPECT_EQ(rows(r), (std::vector<row_view>{{5, 9, "WORK:4", ""}}));
  // 7; the item without from; the item with a bad from; 3; the `to` without toObjectId; -1; 2.5; then five types.
  EXPECT_EQ(r.skipped, 12u);
}

TEST(read_response, labels_are_printable_and_bounded) {
  const std::string long_label = std::string(max_label_bytes - 1, 'a') + "\xC3\xA9" + "tail";  // é across the cut
  auto r = decode(R"({"results":[{"from":{"id":"1"},"to":[{"toObjectId":2,"associationTypes":[)"
                  R"({"category":"USER_DEFINED","typeId":3,"label":"a\u001b[31mb\nc\u0085d"},)"
                  R"({"category":"USER_DEFINED","typeId":4,"label":")" +
                  long_label + R"("},{"category":"USER_DEFINED","typeId":5,"label":7}]}]}]})");
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[0].label, "a?[31mb c?d");
  EXPECT_EQ(r.rows[1].label, std::string(max_label_bytes - 1, 'a'));  // cut before the é, not inside it
  EXPECT_EQ(r.rows[2].label, "");
}

TEST(read_response, bodies_that_are_not_an_answer) {
  auto empty = decode("");
  EXPECT_EQ(empty.kind, body_kind::empty);
  auto html = decode("<html><head><title>502 Bad Gateway</title></head></html>");
  EXPECT_EQ(html.kind, body_kind::not_json);
  EXPECT_EQ(html.message, "502 Bad Gateway");
  for (std::string bad : std::vector<std::string>{
           two_pages.substr(0, two_pages.size() / 2), two_pages + "x", std::string("{\"results\":[\0]}", 15),
           std::string(R"({"results":[{"from":{"id":"1"},"to":[{"toObjectId":2}]}]})") + "}"}) {
    auto r = decode(bad);
    EXPECT_EQ(r.kind, body_kind::invalid_json) << bad;
    EXPECT_TRUE(r.rows.empty());  // nothing from a body that does not parse
    EXPECT_TRUE(r.next.empty());
  }
  auto error = decode(R"({"status":"error","message":"The maximum number of inputs supported in a batch is 1000.",)"
                      R"("category":"VALIDATION_ERROR"})");
  EXPECT_EQ(error.kind, body_kind::json_object);
  EXPECT_EQ(error.status, "error");
  EXPECT_EQ(error.message, "The maximum number of inputs supported in a batch is 1000.");
  EXPECT_TRUE(error.rows.empty());
  std::string deep(100000, '[');
  auto d = decode("{\"results\":" + deep + "}");
  EXPECT_EQ(d.kind, body_kind::invalid_json);
}

TEST(read_response, a_reused_decoder_gives_the_same_answer_and_leaves_the_body_as_it_was) {
  read_response_decoder decoder;
  decoded_read a, b, c;
  std::string body = two_pages;
  decoder.decode(body, a);
  EXPECT_EQ(body, two_pages);
  std::string other = R"({"results":[{"from":{"id":"9"},"to":[{"toObjectId":8,"associationTypes":[]}]}]})";
  decoder.decode(other, b);
  decoder.decode(body, c);
  EXPECT_EQ(rows(a), rows(c));
  EXPECT_EQ(a.next.size(), c.next.size());
  EXPECT_EQ(a.errors.size(), c.errors.size());
  EXPECT_EQ(rows(b), (std::vector<row_view>{{9, 8, "", ""}}));
}
