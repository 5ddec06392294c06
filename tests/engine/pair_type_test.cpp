// Issue 13: one rule for a pair's type, shared by the job and the plan.
#include "engine/pair_type.hpp"

#include <gtest/gtest.h>

using namespace hubbatch;
using engine::settle_type;

namespace {
const assoc_type primary{1, assoc_category::hubspot_defined};
const assoc_type billing{36, assoc_category::user_defined};
const assoc_type unlabelled{279, assoc_category::hubspot_defined};
}  // namespace

TEST(pair_type, archive_drops_every_type) {
  pair_id p{1, 2, billing};
  EXPECT_EQ(settle_type(p, engine::archive_operation(), primary, {}), "");
  EXPECT_TRUE(p.type.empty());
}

TEST(pair_type, create_keeps_a_lines_type_and_labels_the_others) {
  pair_id own{1, 2, billing};
  EXPECT_EQ(settle_type(own, engine::create_operation(), primary, {}), "");
  EXPECT_EQ(own.type, billing);
  pair_id bare{1, 2};
  EXPECT_EQ(settle_type(bare, engine::create_operation(), primary, {}), "");
  EXPECT_EQ(bare.type, primary);
  pair_id unlabelled_create{1, 2};
  EXPECT_EQ(settle_type(unlabelled_create, engine::create_operation(), {}, {}), "");
  EXPECT_TRUE(unlabelled_create.type.empty());  // batch/associate/default
}

TEST(pair_type, archive_labels_needs_a_type_and_refuses_the_unlabelled_one) {
  const assoc_type refused[] = {unlabelled};
  pair_id bare{1, 2};
  EXPECT_NE(settle_type(bare, engine::archive_labels_operation(), {}, refused).find("no association type"),
            std::string::npos);
  pair_id trap{1, 2, unlabelled};
  const std::string why = settle_type(trap, engine::archive_labels_operation(), {}, refused);
  EXPECT_NE(why.find("HUBSPOT_DEFINED:279 is the unlabelled type"), std::string::npos) << why;
  pair_id by_flag{1, 2};
  EXPECT_FALSE(settle_type(by_flag, engine::archive_labels_operation(), unlabelled, refused).empty());
  pair_id fine{1, 2, billing};
  EXPECT_EQ(settle_type(fine, engine::archive_labels_operation(), {}, refused), "");
  pair_id allowed{1, 2, unlabelled};
  EXPECT_EQ(settle_type(allowed, engine::archive_labels_operation(), {}, {}), "");  // --include-unlabeled
}

TEST(pair_type, a_rejected_pair_reads_back_as_an_input_line) {
  EXPECT_EQ(engine::pair_line({7, 8}), "7,8");
  EXPECT_EQ(engine::pair_line({7, 8, billing}), "7,8,USER_DEFINED,36");
}

TEST(operation, routes_per_batch_and_caps) {
  const pair_id typed[] = {{1, 2, billing}};
  const pair_id bare[] = {{1, 2}};
  EXPECT_EQ(engine::create_operation().route(typed), "batch/create");
  EXPECT_EQ(engine::create_operation().route(bare), "batch/associate/default");
  EXPECT_EQ(engine::archive_labels_operation().route(typed), "batch/labels/archive");
  EXPECT_EQ(engine::archive_operation().route(bare), "batch/archive");
  EXPECT_EQ(engine::create_operation().done_word(), "created");
  EXPECT_EQ(engine::batch_pair_cap(engine::create_operation(), 100, 0), 100u);
  EXPECT_EQ(engine::batch_pair_cap(engine::archive_operation(), 100, 0), 0u);
  EXPECT_EQ(engine::batch_pair_cap(engine::create_operation(), 100, 40), 40u);
}
