// Prometheus text written from the counters parses back to the same numbers.
#include "cli/metrics.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>

using namespace hubbatch;

namespace {

// name{labels} -> value, checking the exposition rules on the way.
std::map<std::string, double> parse_prometheus(const std::string& text) {
  std::map<std::string, double> out;
  std::set<std::string> helped, typed;
  std::map<std::string, std::string> types;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    EXPECT_FALSE(line.empty());
    if (line.starts_with("# HELP ")) {
      helped.insert(line.substr(7, line.find(' ', 7) - 7));
      continue;
    }
    if (line.starts_with("# TYPE ")) {
      auto name = line.substr(7, line.find(' ', 7) - 7);
      auto type = line.substr(line.rfind(' ') + 1);
      EXPECT_TRUE(type == "counter" || type == "gauge") << line;
      if (type == "counter") {
        EXPECT_TRUE(name.ends_with("_total")) << name;
      }
      types[name] = type;
      EXPECT_TRUE(helped.contains(name)) << "TYPE before HELP: " << name;
      continue;
    }
    auto sp = line.rfind(' ');
    std::string key = line.substr(0, sp);
    std::string name = key.substr(0, key.find('{'));
    EXPECT_TRUE(name.starts_with("hubbatch_")) << line;
    EXPECT_TRUE(types.contains(name)) << "sample without TYPE: " << line;
    EXPECT_FALSE(out.contains(key)) << "duplicate sample " << key;
    out[key] = std::stod(line.substr(sp + 1));
  }
  return out;
}

}  // namespace

TEST(metrics, text_parses_back_to_the_counters) {
  engine::counters c;
  c.input_pairs = 1000;
  c.done_pairs = 900;
  c.failed_pairs = 40;
  c.rejected_pairs = 10;
  c.duplicate_pairs = 50;
  c.requests = 12;
  c.responses = 11;
  c.rate_limited = 2;
  c.retries = 3;
  c.http_status = {{204, 9}, {429, 2}};
  c.errors_by_category = {{"VALIDATION_ERROR", 30}, {"we\"ird\\cat", 10}};
  c.rejected_by_reason = {{"bad_id", 10}};
  c.latency_ms.add(100);
  c.latency_ms.add(300);
  cli::metrics_context ctx;
  ctx.from_type = "contacts";
  ctx.to_type = "companies";
  ctx.elapsed_s = 12.5;
  ctx.running = false;
  ctx.exit_code = 1;
  ctx.unix_time_s = 1700000000;
  auto m = parse_prometheus(cli::prometheus_text(c, ctx));
  EXPECT_EQ(m["hubbatch_input_pairs_total"], 1000);
  EXPECT_EQ(m["hubbatch_archived_pairs_total"], 900);
  EXPECT_EQ(m["hubbatch_failed_pairs_total"], 40);
  EXPECT_EQ(m["hubbatch_requests_total"], 12);
  EXPECT_EQ(m["hubbatch_rate_limited_total"], 2);
  EXPECT_EQ(m["hubbatch_http_responses_total{status=\"204\"}"], 9);
  EXPECT_EQ(m["hubbatch_http_responses_total{status=\"429\"}"], 2);
  EXPECT_EQ(m["hubbatch_failed_pairs_by_category_total{category=\"VALIDATION_ERROR\"}"], 30);
  EXPECT_EQ(m["hubbatch_failed_pairs_by_category_total{category=\"we\\\"ird\\\\cat\"}"], 10);
  EXPECT_EQ(m["hubbatch_rejected_lines_by_reason_total{reason=\"bad_id\"}"], 10);
  EXPECT_DOUBLE_EQ(m["hubbatch_request_latency_seconds{quantile=\"0\"}"], 0.1);
  EXPECT_DOUBLE_EQ(m["hubbatch_request_latency_seconds{quantile=\"1\"}"], 0.3);
  EXPECT_EQ(m["hubbatch_elapsed_seconds"], 12.5);
  EXPECT_EQ(m["hubbatch_running"], 0);
  EXPECT_EQ(m["hubbatch_exit_code"], 1);
  EXPECT_EQ(m["hubbatch_last_update_timestamp_seconds"], 1700000000);
  EXPECT_EQ(m.count("hubbatch_info{version=\"" HUBBATCH_VERSION "\",operation=\"archive\",from_type=\"contacts\",to_type=\"companies\"}"), 1u);
}
