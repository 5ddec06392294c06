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
  EXPECT_EQ(c.max_inputs, input_limits::all(100));
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

// Issue 15: --max-inputs N or OP:N[,OP:N...].
TEST(issue_15, parse_input_limits_forms) {
  input_limits l;
  EXPECT_EQ(parse_input_limits("250", l), "");
  EXPECT_EQ(l, input_limits::all(250));
  EXPECT_EQ(parse_input_limits("0", l), "");
  EXPECT_EQ(l, input_limits::all(0));
  EXPECT_EQ(parse_input_limits("archive:100,create:2000", l), "");
  EXPECT_EQ(l, (input_limits{100, 100, 2000, 100}));  // the ops not named keep 100
  EXPECT_EQ(parse_input_limits("create:2000,50,labels-archive:7", l), "");
  EXPECT_EQ(l, (input_limits{50, 7, 2000, 50}));  // a bare N sets the ops not named, wherever it stands
  EXPECT_EQ(parse_input_limits("default:3", l), "");
  EXPECT_EQ(l, (input_limits{100, 100, 100, 3}));
  EXPECT_EQ(to_string(input_limits{}), "100");
  EXPECT_EQ(to_string(input_limits{100, 100, 2000, 100}), "archive:100,labels-archive:100,create:2000,default:100");
  input_limits back;
  EXPECT_EQ(parse_input_limits(to_string(input_limits{1, 2, 3, 4}), back), "");
  EXPECT_EQ(back, (input_limits{1, 2, 3, 4}));

  struct bad_case {
    const char* text;
    const char* says;
  };
  for (auto [text, says] :
       {bad_case{"", "empty value"}, bad_case{"x", "bad number 'x'"},
        bad_case{"update:5", "unknown operation 'update'"}, bad_case{"read:2000", "--max-read-inputs"},
        bad_case{"create:", "bad number ''"}, bad_case{"create:-1", "bad number '-1'"},
        bad_case{"create:4294967296", "bad number"}, bad_case{"create:5,create:6", "create named twice"},
        bad_case{"5,6", "more than one bare N"}, bad_case{"5,", "empty item"}, bad_case{",5", "bad number ''"}}) {
    input_limits untouched{1, 2, 3, 4};
    auto err = parse_input_limits(text, untouched);
    EXPECT_NE(err.find(says), std::string::npos) << text << " -> " << err;
    EXPECT_EQ(untouched, (input_limits{1, 2, 3, 4})) << text;
  }
}

// Issue 15: --capacity N/s, N (per second) or 0 (off).
TEST(issue_15, parse_capacity_forms) {
  EXPECT_EQ(parse_capacity("50/s"), 50u);
  EXPECT_EQ(parse_capacity("50/1s"), 50u);
  EXPECT_EQ(parse_capacity("50"), 50u);
  EXPECT_EQ(parse_capacity("0"), 0u);
  EXPECT_EQ(parse_capacity("0/s"), 0u);
  for (const char* bad : {"", "/s", "x", "-1", "5/2s", "5/10s", "5/ms", "5/s/s", "1.5/s", "100000001"})
    EXPECT_FALSE(parse_capacity(bad)) << bad;
  config c;
  EXPECT_EQ(c.capacity, 0u);
  EXPECT_EQ(c.capacity_delay.count(), 200);
  c.capacity_delay = std::chrono::milliseconds(-1);
  EXPECT_NE(validate_config(c).find("--capacity-delay"), std::string::npos);
}
