#include "engine/counters.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

using namespace hubbatch::engine;

namespace {

// A consistent set: 100 pairs settled every way, 12 requests.
counters sample_counters() {
  counters c;
  c.input_pairs = 100;
  c.done_pairs = 80;
  c.failed_pairs = 7;
  c.rejected_pairs = 5;
  c.duplicate_pairs = 6;
  c.pending_pairs = 2;
  c.requests = 12;
  c.responses = 11;
  c.retries = 3;
  c.rate_limited = 2;
  c.transport_errors = 1;
  c.batches = 9;
  c.split_batches = 1;
  c.sent_pairs = 110;
  c.sent_inputs = 40;
  c.connections_opened = 4;
  c.http_status = {{200, 8}, {429, 2}, {400, 1}};
  c.errors_by_category = {{"validation", 4}, {"retries_exhausted", 3}};
  c.rejected_by_reason = {{"bad_id", 3}, {"wrong_column_count", 2}};
  for (int i = 1; i <= 11; ++i) c.latency_ms.add(i);
  return c;
}

report_context sample_context() {
  report_context ctx;
  ctx.from_type = "contacts";
  ctx.to_type = "companies";
  ctx.api_version = "v4";
  ctx.base_url = "https://api.hubapi.com";
  ctx.effective_rate_max = 190;
  ctx.effective_rate_window_s = 10;
  ctx.elapsed_s = 4;
  ctx.exit_code = 1;
  return ctx;
}

}  // namespace

// ---------------------------------------------------------------- latency_reservoir

TEST(latency_reservoir, empty_reports_zero) {
  latency_reservoir r;
  EXPECT_EQ(r.count(), 0u);
  EXPECT_EQ(r.min(), 0);
  EXPECT_EQ(r.max(), 0);
  EXPECT_EQ(r.quantile(0.5), 0);
}

TEST(latency_reservoir, quantiles_of_known_data_interpolate_between_ranks) {
  latency_reservoir r;
  for (int i = 100; i >= 1; --i) r.add(i);  // order does not matter
  EXPECT_EQ(r.count(), 100u);
  EXPECT_EQ(r.min(), 1);
  EXPECT_EQ(r.max(), 100);
  EXPECT_EQ(r.quantile(0), 1);
  EXPECT_EQ(r.quantile(1), 100);
  EXPECT_DOUBLE_EQ(r.quantile(0.5), 50.5);
  EXPECT_NEAR(r.quantile(0.95), 95.05, 1e-9);
  EXPECT_NEAR(r.quantile(0.99), 99.01, 1e-9);
  EXPECT_EQ(r.quantile(-1), 1);
  EXPECT_EQ(r.quantile(2), 100);
  EXPECT_EQ(r.quantile(std::nan("")), 1);
  r.add(std::nan(""));  // ignored
  EXPECT_EQ(r.count(), 100u);
}

TEST(latency_reservoir, bounded_sample_keeps_exact_extremes_and_estimates_quantiles) {
  latency_reservoir r(1000, 7);
  // 100,000 values, uniform over [0, 1000), in increasing order: a sample
  // that kept only early (or late) values would be far off.
  for (int i = 0; i < 100000; ++i) r.add(i / 100.0);
  EXPECT_EQ(r.count(), 100000u);
  EXPECT_EQ(r.min(), 0);
  EXPECT_EQ(r.max(), 999.99);
  EXPECT_NEAR(r.quantile(0.5), 500, 40);
  EXPECT_NEAR(r.quantile(0.95), 950, 20);
  EXPECT_NEAR(r.quantile(0.05), 50, 20);
}

TEST(latency_reservoir, merge_is_exact_when_small_and_weighted_when_large) {
  latency_reservoir a(100), b(100);
  for (int i = 1; i <= 50; ++i) a.add(i);
  for (int i = 51; i <= 100; ++i) b.add(i);
  a.merge(b);
  EXPECT_EQ(a.count(), 100u);
  EXPECT_DOUBLE_EQ(a.quantile(0.5), 50.5);
  EXPECT_EQ(a.min(), 1);
  EXPECT_EQ(a.max(), 100);

  // 90,000 ones and 10,000 twos: the merged sample must hold about 10% twos.
  latency_reservoir big(2000, 1), small(2000, 2);
  for (int i = 0; i < 90000; ++i) big.add(1);
  for (int i = 0; i < 10000; ++i) small.add(2);
  big.merge(small);
  EXPECT_EQ(big.count(), 100000u);
  EXPECT_EQ(big.quantile(0.5), 1);
  EXPECT_EQ(big.quantile(0.95), 2);
  EXPECT_EQ(big.quantile(0.85), 1);
  EXPECT_EQ(big.max(), 2);

  latency_reservoir empty;
  empty.merge(a);
  EXPECT_EQ(empty.count(), 100u);
  EXPECT_EQ(empty.min(), 1);
  EXPECT_DOUBLE_EQ(empty.quantile(0.5), 50.5);
  a.merge(latency_reservoir{});
  EXPECT_EQ(a.count(), 100u);
}

// ---------------------------------------------------------------- counters

TEST(counters, consistent_counters_pass_the_check) {
  EXPECT_EQ(sample_counters().check(), "");
  EXPECT_EQ(counters{}.check(), "");
}

TEST(counters, check_names_each_kind_of_mismatch) {
  {
    auto c = sample_counters();
    c.done_pairs = 79;
    EXPECT_EQ(c.check(),
              "input_pairs 100 != done_pairs 79 + failed_pairs 7 + rejected_pairs 5 + duplicate_pairs 6 + "
              "pending_pairs 2 (= 99)");
  }
  {
    auto c = sample_counters();
    c.errors_by_category["validation"] = 5;
    EXPECT_EQ(c.check(), "errors_by_category sums to 8 but failed_pairs is 7");
  }
  {
    auto c = sample_counters();
    c.rejected_by_reason.erase("bad_id");
    EXPECT_EQ(c.check(), "rejected_by_reason sums to 2 but rejected_pairs is 5");
  }
  {
    auto c = sample_counters();
    c.http_status[500] = 1;
    EXPECT_EQ(c.check(), "http_status sums to 12 but responses is 11");
  }
  {
    auto c = sample_counters();
    c.requests = 10;
    EXPECT_EQ(c.check(), "responses 11 > requests 10");
  }
  {
    auto c = sample_counters();
    c.retries = 13;
    EXPECT_EQ(c.check(), "retries 13 > requests 12");
  }
  {
    auto c = sample_counters();
    c.rate_limited = 1;
    EXPECT_EQ(c.check(), "rate_limited 1 != http_status[429] 2");
  }
  {
    auto c = sample_counters();
    c.sent_inputs = 111;
    EXPECT_EQ(c.check(), "sent_inputs 111 > sent_pairs 110");
  }
  {
    // Several at once, all reported; huge values cannot wrap into agreement.
    auto c = sample_counters();
    c.pending_pairs = UINT64_MAX - 97;  // 80+7+5+6 + this wraps to 0 in 64 bits
    c.input_pairs = 0;
    c.failed_pairs = 8;
    const std::string msg = c.check();
    EXPECT_NE(msg.find("(= 18446744073709551617)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("; errors_by_category sums to 7 but failed_pairs is 8"), std::string::npos) << msg;
  }
}

TEST(counters, merge_adds_everything) {
  auto a = sample_counters();
  auto b = sample_counters();
  b.http_status = {{204, 11}};
  b.rate_limited = 0;
  b.errors_by_category = {{"validation", 7}};
  b.latency_ms = latency_reservoir{};
  b.latency_ms.add(0.5);
  b.latency_ms.add(99);
  a.merge(b);
  EXPECT_EQ(a.input_pairs, 200u);
  EXPECT_EQ(a.done_pairs, 160u);
  EXPECT_EQ(a.failed_pairs, 14u);
  EXPECT_EQ(a.rejected_pairs, 10u);
  EXPECT_EQ(a.duplicate_pairs, 12u);
  EXPECT_EQ(a.pending_pairs, 4u);
  EXPECT_EQ(a.requests, 24u);
  EXPECT_EQ(a.responses, 22u);
  EXPECT_EQ(a.retries, 6u);
  EXPECT_EQ(a.rate_limited, 2u);
  EXPECT_EQ(a.transport_errors, 2u);
  EXPECT_EQ(a.batches, 18u);
  EXPECT_EQ(a.split_batches, 2u);
  EXPECT_EQ(a.sent_pairs, 220u);
  EXPECT_EQ(a.sent_inputs, 80u);
  EXPECT_EQ(a.connections_opened, 8u);
  EXPECT_EQ(a.http_status, (std::map<int, std::uint64_t>{{200, 8}, {204, 11}, {400, 1}, {429, 2}}));
  EXPECT_EQ(a.errors_by_category, (std::map<std::string, std::uint64_t>{{"validation", 11}, {"retries_exhausted", 3}}));
  EXPECT_EQ(a.rejected_by_reason, (std::map<std::string, std::uint64_t>{{"bad_id", 6}, {"wrong_column_count", 4}}));
  EXPECT_EQ(a.latency_ms.count(), 13u);
  EXPECT_EQ(a.latency_ms.min(), 0.5);
  EXPECT_EQ(a.latency_ms.max(), 99);
  EXPECT_EQ(a.check(), "");
}

// ---------------------------------------------------------------- report

TEST(report, json_parses_with_every_field) {
  const auto c = sample_counters();
  const std::string text = report_json(c, sample_context());
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(simdjson::padded_string(text)).get(doc), simdjson::SUCCESS) << text;
  auto u = [&](const char* key) { return std::uint64_t(doc[key]); };
  auto d = [&](const char* key) { return double(doc[key]); };
  auto s = [&](const char* key) { return std::string(std::string_view(doc[key])); };
  EXPECT_EQ(u("input_pairs"), 100u);
  EXPECT_EQ(u("archived_pairs"), 80u);
  EXPECT_EQ(u("failed_pairs"), 7u);
  EXPECT_EQ(u("rejected_pairs"), 5u);
  EXPECT_EQ(u("duplicate_pairs"), 6u);
  EXPECT_EQ(u("pending_pairs"), 2u);
  EXPECT_EQ(u("requests"), 12u);
  EXPECT_EQ(u("responses"), 11u);
  EXPECT_EQ(u("retries"), 3u);
  EXPECT_EQ(u("rate_limited"), 2u);
  EXPECT_EQ(u("transport_errors"), 1u);
  EXPECT_EQ(u("batches"), 9u);
  EXPECT_EQ(u("split_batches"), 1u);
  EXPECT_EQ(u("sent_pairs"), 110u);
  EXPECT_EQ(u("sent_inputs"), 40u);
  EXPECT_EQ(u("connections_opened"), 4u);
  EXPECT_EQ(std::uint64_t(doc["http_status"]["200"]), 8u);
  EXPECT_EQ(std::uint64_t(doc["http_status"]["429"]), 2u);
  EXPECT_EQ(std::uint64_t(doc["http_status"]["400"]), 1u);
  EXPECT_EQ(simdjson::dom::object(doc["http_status"]).size(), 3u);
  EXPECT_EQ(std::uint64_t(doc["errors_by_category"]["validation"]), 4u);
  EXPECT_EQ(std::uint64_t(doc["errors_by_category"]["retries_exhausted"]), 3u);
  EXPECT_EQ(std::uint64_t(doc["rejected_by_reason"]["bad_id"]), 3u);
  EXPECT_EQ(std::uint64_t(doc["rejected_by_reason"]["wrong_column_count"]), 2u);
  EXPECT_DOUBLE_EQ(d("pairs_per_request"), 9.167);  // 110 / 12, three decimals
  EXPECT_DOUBLE_EQ(d("elapsed_s"), 4.0);
  EXPECT_DOUBLE_EQ(d("pairs_per_s"), 20.0);  // archived / elapsed
  EXPECT_EQ(std::uint64_t(doc["latency_ms"]["count"]), 11u);
  EXPECT_DOUBLE_EQ(double(doc["latency_ms"]["min"]), 1.0);
  EXPECT_DOUBLE_EQ(double(doc["latency_ms"]["p50"]), 6.0);
  EXPECT_DOUBLE_EQ(double(doc["latency_ms"]["p95"]), 10.5);
  EXPECT_DOUBLE_EQ(double(doc["latency_ms"]["p99"]), 10.9);
  EXPECT_DOUBLE_EQ(double(doc["latency_ms"]["max"]), 11.0);
  EXPECT_EQ(std::int64_t(doc["rate_limit"]["max"]), 190);
  EXPECT_DOUBLE_EQ(double(doc["rate_limit"]["window_s"]), 10.0);
  EXPECT_EQ(s("from_type"), "contacts");
  EXPECT_EQ(s("to_type"), "companies");
  EXPECT_EQ(s("api_version"), "v4");
  EXPECT_EQ(s("base_url"), "https://api.hubapi.com");
  EXPECT_EQ(std::int64_t(doc["exit_code"]), 1);
  EXPECT_EQ(s("stop_reason"), "");
  // Issue 12: daily_reset was always null (a DAILY 429 does not say when the
  // limit resets); the field is gone.
  EXPECT_EQ(doc["daily_reset"].error(), simdjson::NO_SUCH_FIELD);
  EXPECT_TRUE(bool(doc["invariant_ok"]));
  EXPECT_TRUE(doc["invariant_error"].is_null());
  EXPECT_EQ(s("hubbatch_version"), HUBBATCH_VERSION);
}

TEST(report, json_reports_a_mismatch_and_stop_details) {
  auto c = sample_counters();
  c.pending_pairs = 0;
  auto ctx = sample_context();
  ctx.stop_reason = "daily_limit";
  ctx.exit_code = 3;
  ctx.elapsed_s = 0;  // no division by zero
  const std::string text = report_json(c, ctx);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(simdjson::padded_string(text)).get(doc), simdjson::SUCCESS) << text;
  EXPECT_FALSE(bool(doc["invariant_ok"]));
  EXPECT_EQ(std::string_view(doc["invariant_error"]), c.check());
  EXPECT_EQ(std::string_view(doc["stop_reason"]), "daily_limit");
  EXPECT_EQ(std::int64_t(doc["exit_code"]), 3);
  EXPECT_DOUBLE_EQ(double(doc["pairs_per_s"]), 0.0);
  // Empty counters: empty objects, zero latencies, still valid JSON.
  const std::string empty = report_json(counters{}, report_context{});
  ASSERT_EQ(parser.parse(simdjson::padded_string(empty)).get(doc), simdjson::SUCCESS) << empty;
  EXPECT_EQ(simdjson::dom::object(doc["http_status"]).size(), 0u);
  EXPECT_DOUBLE_EQ(double(doc["pairs_per_request"]), 0.0);
  EXPECT_DOUBLE_EQ(double(doc["latency_ms"]["p99"]), 0.0);
  EXPECT_TRUE(bool(doc["invariant_ok"]));
  // Non-finite elapsed time becomes null rather than invalid JSON.
  auto inf_ctx = sample_context();
  inf_ctx.elapsed_s = INFINITY;
  ASSERT_EQ(parser.parse(simdjson::padded_string(report_json(c, inf_ctx))).get(doc), simdjson::SUCCESS);
  EXPECT_TRUE(doc["elapsed_s"].is_null());
}

TEST(report, json_escapes_strings_and_replaces_invalid_utf8) {
  auto c = sample_counters();
  c.errors_by_category = {{"quote\" back\\slash", 4}, {"ctl\x01\n\ttab", 3}};
  auto ctx = sample_context();
  ctx.from_type = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";  // valid 2-, 3- and 4-byte sequences kept
  ctx.to_type = std::string("bad\xff\xc3(\xed\xa0\x80z") + '\0' + "end";  // invalid bytes, surrogate, NUL
  const std::string text = report_json(c, ctx);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(simdjson::padded_string(text)).get(doc), simdjson::SUCCESS) << text;
  EXPECT_EQ(std::uint64_t(doc["errors_by_category"]["quote\" back\\slash"]), 4u);
  EXPECT_EQ(std::uint64_t(doc["errors_by_category"]["ctl\x01\n\ttab"]), 3u);
  EXPECT_EQ(std::string_view(doc["from_type"]), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  const std::string fffd = "\xef\xbf\xbd";
  EXPECT_EQ(std::string_view(doc["to_type"]),
            "bad" + fffd + fffd + "(" + fffd + fffd + fffd + "z" + std::string(1, '\0') + "end");
  EXPECT_NE(text.find("\\u0001"), std::string::npos);
  EXPECT_NE(text.find("\\u0000"), std::string::npos);
}

TEST(report, summary_has_a_fixed_shape) {
  const auto c = sample_counters();
  const std::string full = report_summary(c, sample_context());
  const std::string empty = report_summary(counters{}, report_context{});
  auto lines = [](const std::string& s) { return std::count(s.begin(), s.end(), '\n'); };
  EXPECT_EQ(lines(full), 16);
  EXPECT_EQ(lines(empty), lines(full));
  EXPECT_NE(full.find("  input pairs            100\n"), std::string::npos) << full;
  EXPECT_NE(full.find("  failed                   7  retries_exhausted 3, validation 4\n"), std::string::npos) << full;
  EXPECT_NE(full.find("  http status   200 8, 400 1, 429 2\n"), std::string::npos) << full;
  EXPECT_NE(full.find("  rate limit    190 per 10 s\n"), std::string::npos) << full;
  EXPECT_NE(full.find("  latency ms    min 1.0  p50 6.0  p95 10.5  p99 10.9  max 11.0\n"), std::string::npos) << full;
  EXPECT_NE(full.find("  accounting    ok\n"), std::string::npos) << full;
  EXPECT_NE(empty.find("  rate limit    unlimited\n"), std::string::npos) << empty;
  // Issue 11: a run that sent nothing learned no limit (it showed "1 per 10 s").
  const std::string unsent = report_summary(counters{}, sample_context());
  EXPECT_NE(unsent.find("  rate limit    not learned (nothing sent)\n"), std::string::npos) << unsent;
  auto bad = c;
  bad.done_pairs = 0;
  EXPECT_NE(report_summary(bad, sample_context()).find("  accounting    MISMATCH: input_pairs 100 != "), std::string::npos);
}

// Issue 12: a server whose 2xx bodies carried hundreds of distinct error
// categories made the summary's failed line list every one, and the report
// and memory kept them all.
TEST(counters, error_categories_are_bounded_with_the_rest_as_other) {
  counters c;
  for (int i = 0; i < 500; ++i) {
    c.failed_pairs += 2;
    c.add_error(fmt::format("CATEGORY_{:03}", i), 2);
  }
  c.failed_pairs += 5;
  c.add_error("CATEGORY_000", 5);  // a kept name keeps counting under its name
  c.input_pairs = c.failed_pairs;
  EXPECT_EQ(c.errors_by_category.size(), counters::max_error_categories);
  EXPECT_EQ(c.errors_by_category.at("CATEGORY_000"), 7u);
  EXPECT_EQ(c.errors_by_category.at("CATEGORY_062"), 2u);
  EXPECT_EQ(c.errors_by_category.count("CATEGORY_063"), 0u);
  EXPECT_EQ(c.errors_by_category.at(std::string(counters::other_category)), 2u * (500 - 63));
  EXPECT_EQ(c.check(), "") << "the pairs are all still counted";

  // Merging workers' counters stays bounded too.
  counters other;
  for (int i = 0; i < 100; ++i) other.errors_by_category[fmt::format("ELSEWHERE_{}", i)] = 1;
  other.failed_pairs = other.input_pairs = 100;
  c.merge(other);
  EXPECT_EQ(c.errors_by_category.size(), counters::max_error_categories);
  EXPECT_EQ(c.check(), "");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const std::string text = report_json(c, sample_context());
  ASSERT_EQ(parser.parse(simdjson::padded_string(text)).get(doc), simdjson::SUCCESS) << text;
  EXPECT_EQ(simdjson::dom::object(doc["errors_by_category"]).size(), counters::max_error_categories);
}

TEST(report, summary_names_the_ten_largest_error_categories_and_counts_the_rest) {
  auto c = sample_counters();
  c.errors_by_category.clear();
  c.failed_pairs = 0;
  for (int i = 1; i <= 40; ++i) {  // BIG_01..BIG_10 hold the most pairs
    const std::uint64_t n = i <= 10 ? 100 + i : 1;
    c.errors_by_category[fmt::format("{}_{:02}", i <= 10 ? "BIG" : "small", i)] = n;
    c.failed_pairs += n;
  }
  c.input_pairs = c.done_pairs + c.failed_pairs + c.rejected_pairs + c.duplicate_pairs + c.pending_pairs;
  const std::string text = report_summary(c, sample_context());
  auto at = text.find("  failed  ");
  ASSERT_NE(at, std::string::npos) << text;
  const std::string failed = text.substr(at, text.find('\n', at) - at);
  EXPECT_EQ(failed,
            "  failed                1085  BIG_01 101, BIG_02 102, BIG_03 103, BIG_04 104, BIG_05 105, BIG_06 106, "
            "BIG_07 107, BIG_08 108, BIG_09 109, BIG_10 110, and 30 more (30 pairs)");
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 16) << "still the fixed shape";
}
