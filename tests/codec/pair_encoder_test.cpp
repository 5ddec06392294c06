// Issue 13: the bodies of batch/associate/default, batch/create and
// batch/labels/archive, and the labels list of GET …/labels.
#include "codec/labels.hpp"
#include "codec/pair_encoder.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

using namespace hubbatch;

TEST(pair_encoder, one_input_per_pair_without_types) {
  std::string out = "kept";
  const pair_id pairs[] = {{1, 2}, {1, 3}, {18446744073709551615ULL, 7}};
  codec::encode_pair_inputs(pairs, false, out);
  EXPECT_EQ(out,
            R"(kept{"inputs":[{"from":{"id":"1"},"to":{"id":"2"}},{"from":{"id":"1"},"to":{"id":"3"}},)"
            R"({"from":{"id":"18446744073709551615"},"to":{"id":"7"}}]})");
}

TEST(pair_encoder, each_input_carries_its_pairs_type) {
  std::string out;
  const pair_id pairs[] = {{101, 9001, {1, assoc_category::hubspot_defined}},
                           {102, 9002, {2147483647, assoc_category::user_defined}},
                           {103, 9003, {5, assoc_category::integrator_defined}},
                           {104, 9004, {6, assoc_category::work}}};
  codec::encode_pair_inputs(pairs, true, out);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(out);
  simdjson::dom::array inputs = doc["inputs"];
  ASSERT_EQ(inputs.size(), 4u);
  const char* categories[] = {"HUBSPOT_DEFINED", "USER_DEFINED", "INTEGRATOR_DEFINED", "WORK"};
  std::size_t i = 0;
  for (simdjson::dom::element in : inputs) {
    EXPECT_EQ(std::string_view(in["from"]["id"]), std::to_string(pairs[i].from));
    EXPECT_EQ(std::string_view(in["to"]["id"]), std::to_string(pairs[i].to));
    simdjson::dom::array types = in["types"];
    ASSERT_EQ(types.size(), 1u);
    EXPECT_EQ(std::string_view(types.at(0)["associationCategory"]), categories[i]);
    EXPECT_EQ(std::int64_t(types.at(0)["associationTypeId"]), pairs[i].type.id);
    ++i;
  }
}

TEST(pair_encoder, an_empty_batch_is_an_empty_inputs_array) {
  std::string out;
  codec::encode_pair_inputs({}, true, out);
  EXPECT_EQ(out, R"({"inputs":[]})");
}

TEST(labels_decoder, reads_labels_and_the_unlabelled_type) {
  std::string error;
  auto labels = codec::decode_labels(
      R"({"results":[{"category":"HUBSPOT_DEFINED","typeId":279,"label":null},)"
      R"({"category":"HUBSPOT_DEFINED","typeId":1,"label":"Primary"},)"
      R"({"category":"USER_DEFINED","typeId":36,"label":"Billing\u001b[2J contact"},)"
      R"({"category":"NOPE","typeId":5,"label":"x"},{"category":"USER_DEFINED","typeId":0,"label":"y"},)"
      R"({"category":"WORK","typeId":7}]})",
      error);
  ASSERT_TRUE(labels) << error;
  ASSERT_EQ(labels->size(), 4u);  // the unknown category and the zero id are skipped
  EXPECT_TRUE((*labels)[0].unlabelled());
  EXPECT_EQ((*labels)[0].type, (assoc_type{279, assoc_category::hubspot_defined}));
  EXPECT_EQ((*labels)[1].label, "Primary");
  EXPECT_EQ((*labels)[2].label, "Billing?[2J contact");  // no terminal escapes reach the user's screen
  EXPECT_TRUE((*labels)[3].unlabelled());
}

TEST(labels_decoder, other_shapes_are_errors) {
  for (std::string body : {"", "<html>", R"({"results":{}})", R"({"status":"error"})", "[1]"}) {
    std::string error;
    EXPECT_FALSE(codec::decode_labels(body, error)) << body;
    EXPECT_FALSE(error.empty()) << body;
  }
}

// Issue 14: batch/read's body, one input per run of one from-id.
TEST(pair_encoder, read_inputs_one_per_run_of_a_from_id) {
  std::string out = "kept";
  const pair_id pairs[] = {
      {1, 10}, {1, 11}, {1, 12}, {2, 0}, {18446744073709551615ULL, 5}, {18446744073709551615ULL, 6}};
  codec::encode_read_inputs(pairs, {}, out);
  EXPECT_EQ(out, R"(kept{"inputs":[{"id":"1"},{"id":"2"},{"id":"18446744073709551615"}]})");
}

TEST(pair_encoder, read_inputs_carry_after_only_when_not_empty) {
  std::string out;
  const pair_id pairs[] = {{1, 0}, {2, 20}, {2, 21}, {3, 0}, {4, 0}};
  const std::vector<std::string> after = {"", "Q0FTRTE-2", "ignored: not a run's first", "", "x"};
  codec::encode_read_inputs(pairs, after, out);
  EXPECT_EQ(out, R"({"inputs":[{"id":"1"},{"id":"2","after":"Q0FTRTE-2"},{"id":"3"},{"id":"4","after":"x"}]})");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(out).get(doc), simdjson::SUCCESS) << out;
  EXPECT_EQ(simdjson::dom::array(doc["inputs"]).size(), 4u);
}

TEST(pair_encoder, read_inputs_of_nothing_is_an_empty_list) {
  std::string out;
  codec::encode_read_inputs({}, {}, out);
  EXPECT_EQ(out, R"({"inputs":[]})");
}

TEST(pair_encoder, read_inputs_after_shorter_than_pairs_means_first_pages) {
  std::string out;
  const pair_id pairs[] = {{1, 0}, {2, 0}, {3, 0}};
  const std::vector<std::string> after = {"A"};
  codec::encode_read_inputs(pairs, after, out);
  EXPECT_EQ(out, R"({"inputs":[{"id":"1","after":"A"},{"id":"2"},{"id":"3"}]})");
}
