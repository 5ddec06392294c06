#include "sandbox/object_types.hpp"

#include <gtest/gtest.h>

using hubbatch::sandbox::resolve_object_type;

TEST(sandbox_object_types, names_singular_plural_any_case_and_ids_agree) {
  for (const char* t : {"contacts", "contact", "Contacts", "CONTACT", "0-1"}) {
    auto r = resolve_object_type(t);
    ASSERT_TRUE(r) << t;
    EXPECT_EQ(r->key, "0-1") << t;
    EXPECT_EQ(r->singular, "contact");
  }
  EXPECT_EQ(resolve_object_type("companies")->key, "0-2");
  EXPECT_EQ(resolve_object_type("Company")->key, "0-2");
  EXPECT_EQ(resolve_object_type("line_items")->key, "0-8");
  EXPECT_EQ(resolve_object_type("LINE_ITEM")->key, "0-8");
  EXPECT_EQ(resolve_object_type("0-420")->singular, "listing");
  EXPECT_EQ(resolve_object_type("leads")->key, "0-136");
}

TEST(sandbox_object_types, custom_forms) {
  EXPECT_EQ(resolve_object_type("2-123456")->key, "2-123456");
  EXPECT_EQ(resolve_object_type("p7878787_my_object")->key, "p_my_object");
  EXPECT_EQ(resolve_object_type("p_my_object")->key, "p_my_object");
  EXPECT_EQ(resolve_object_type("P345_Vendor")->key, "p_vendor");
  EXPECT_EQ(resolve_object_type("p_vendor")->singular, "vendor");
}

TEST(sandbox_object_types, unknown_and_bare_custom_names_are_refused) {
  for (const char* t : {"widgets", "vendor", "", "0-9999", "2-", "2-abc", "p_", "p12x_vendor", "contacts/", "p_ven dor"})
    EXPECT_FALSE(resolve_object_type(t)) << t;
}
