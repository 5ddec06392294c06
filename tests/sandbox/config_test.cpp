#include "sandbox/config.hpp"

#include <gtest/gtest.h>

using namespace hubbatch::sandbox;

TEST(sandbox_config, parse_rate_forms) {
  auto r = parse_rate("190/10s");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->max, 190u);
  EXPECT_EQ(r->window.count(), 10'000);
  EXPECT_EQ(parse_rate("5/1s")->window.count(), 1000);
  EXPECT_EQ(parse_rate("100/500ms")->window.count(), 500);
  EXPECT_EQ(parse_rate("7/3")->window.count(), 3000);
  EXPECT_EQ(parse_rate("0")->max, 0u);
  EXPECT_EQ(parse_rate("110")->window.count(), 10'000);
  for (const char* bad : {"", "x", "5/", "5/0s", "-1/10s", "5/10m", "1/2/3"}) EXPECT_FALSE(parse_rate(bad)) << bad;
  EXPECT_EQ(to_string(*parse_rate("190/10s")), "190/10s");
  EXPECT_EQ(to_string(*parse_rate("100/500ms")), "100/500ms");
}

TEST(sandbox_config, defaults_are_valid_and_bad_values_are_named) {
  config c;
  EXPECT_EQ(validate_config(c), "");
  EXPECT_EQ(c.rate.max, 190u);
  EXPECT_EQ(c.max_inputs, 100u);
  EXPECT_EQ(c.max_body_bytes, 8u << 20);
  c.fault_5xx = 1.5;
  EXPECT_NE(validate_config(c).find("--fault-5xx"), std::string::npos);
  c = config{};
  c.archive_status_dated = 201;
  EXPECT_NE(validate_config(c).find("--archive-status"), std::string::npos);
  c = config{};
  c.cert_file = "x.pem";
  EXPECT_NE(validate_config(c).find("--key"), std::string::npos);
  c = config{};
  c.seeds.push_back({"contacts", "widgets", "", {}});
  EXPECT_NE(validate_config(c).find("widgets"), std::string::npos);
  EXPECT_EQ(parse_missing_mode("partial"), missing_mode::partial);
  EXPECT_FALSE(parse_missing_mode("maybe"));
}
