#include "codec/response.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace {

using hubbatch::codec::body_kind;
using hubbatch::codec::decoded_response;
using hubbatch::codec::rate_limit_headers;
using hubbatch::codec::response_decoder;
using ids = std::vector<std::uint64_t>;
using strings = std::vector<std::string>;

decoded_response decode(std::string body) {
  response_decoder decoder;
  decoded_response out;
  decoder.decode(body, out);
  return out;
}

// ------------------------------------------------------------ headers -----

TEST(rate_limit_headers, real_capture_any_case) {
  // docs/hubspot-api.md section 4.3, a 400 response from a private app with the add-on.
  rate_limit_headers h;
  EXPECT_TRUE(h.offer("x-hubspot-ratelimit-daily", "1000000"));
  EXPECT_TRUE(h.offer("X-HubSpot-RateLimit-Daily-Remaining", "919952"));
  EXPECT_TRUE(h.offer("x-hubspot-ratelimit-interval-milliseconds", "10000"));
  EXPECT_TRUE(h.offer("X-HUBSPOT-RATELIMIT-MAX", "200"));
  EXPECT_TRUE(h.offer("x-hubspot-ratelimit-remaining", " 198 "));
  EXPECT_TRUE(h.offer("x-hubspot-ratelimit-secondly", "20"));
  EXPECT_TRUE(h.offer("x-hubspot-ratelimit-secondly-remaining", "19"));
  EXPECT_EQ(h.daily, 1000000);
  EXPECT_EQ(h.daily_remaining, 919952);
  EXPECT_EQ(h.interval_ms, 10000);
  EXPECT_EQ(h.max, 200);
  EXPECT_EQ(h.remaining, 198);
  EXPECT_EQ(h.secondly, 20);
  EXPECT_EQ(h.secondly_remaining, 19);
  EXPECT_EQ(h.retry_after_ms, std::nullopt);
  EXPECT_EQ(h.correlation_id, "");
}

TEST(rate_limit_headers, absent_headers_stay_unset_and_others_are_not_recognised) {
  rate_limit_headers h;
  EXPECT_FALSE(h.offer("content-type", "application/json;charset=utf-8"));
  EXPECT_FALSE(h.offer("x-hubspot-ratelimit-unknown", "5"));
  EXPECT_FALSE(h.offer("x-hubspot-ratelimit", "5"));
  EXPECT_FALSE(h.offer("x-hubspot-ratelimit-max-extra", "5"));
  EXPECT_FALSE(h.offer("", ""));
  EXPECT_EQ(h.max, std::nullopt);
  EXPECT_EQ(h.remaining, std::nullopt);
  EXPECT_EQ(h.interval_ms, std::nullopt);
  EXPECT_EQ(h.daily, std::nullopt);
}

TEST(rate_limit_headers, malformed_values_are_ignored) {
  rate_limit_headers h;
  for (std::string_view v : {"", " ", "-1", "+5", "1.5", "10 000", "abc", "0x10", "12a",
                             "9223372036854775808", "99999999999999999999999"}) {
    EXPECT_TRUE(h.offer("X-HubSpot-RateLimit-Max", v)) << v;
    EXPECT_EQ(h.max, std::nullopt) << v;
  }
  EXPECT_TRUE(h.offer("X-HubSpot-RateLimit-Max", "9223372036854775807"));
  EXPECT_EQ(h.max, std::numeric_limits<std::int64_t>::max());
  EXPECT_TRUE(h.offer("X-HubSpot-RateLimit-Remaining", "0"));
  EXPECT_EQ(h.remaining, 0);
  // A later valid value replaces, a later invalid one keeps the last good value.
  EXPECT_TRUE(h.offer("X-HubSpot-RateLimit-Remaining", "bad"));
  EXPECT_EQ(h.remaining, 0);
}

TEST(rate_limit_headers, retry_after_seconds_and_ms) {
  rate_limit_headers a;
  EXPECT_TRUE(a.offer("Retry-After", "3"));
  EXPECT_EQ(a.retry_after_ms, 3000);

  rate_limit_headers b;
  EXPECT_TRUE(b.offer("retry-after-ms", "1500"));
  EXPECT_EQ(b.retry_after_ms, 1500);

  // Both: the longer wait, in either order.
  rate_limit_headers c;
  c.offer("retry-after-ms", "1500");
  c.offer("retry-after", "1");
  EXPECT_EQ(c.retry_after_ms, 1500);
  rate_limit_headers d;
  d.offer("retry-after", "2");
  d.offer("RETRY-AFTER-MS", "1500");
  EXPECT_EQ(d.retry_after_ms, 2000);

  rate_limit_headers e;
  EXPECT_TRUE(e.offer("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"));  // HTTP date: ignored
  EXPECT_TRUE(e.offer("Retry-After", "-1"));
  EXPECT_TRUE(e.offer("Retry-After", "9223372036854776"));  // seconds overflow int64 ms
  EXPECT_EQ(e.retry_after_ms, std::nullopt);
  EXPECT_TRUE(e.offer("Retry-After", "0"));
  EXPECT_EQ(e.retry_after_ms, 0);
}

TEST(rate_limit_headers, correlation_id_prefers_hubspot_header) {
  rate_limit_headers a;
  a.offer("x-request-id", "req-1");
  EXPECT_EQ(a.correlation_id, "req-1");
  a.offer("X-HubSpot-Correlation-Id", "019db0fe-8af2-7952-0000-000000000001");
  EXPECT_EQ(a.correlation_id, "019db0fe-8af2-7952-0000-000000000001");
  a.offer("x-request-id", "req-2");
  EXPECT_EQ(a.correlation_id, "019db0fe-8af2-7952-0000-000000000001");

  rate_limit_headers b;
  b.offer("x-hubspot-correlation-id", "  c1 ");
  b.offer("x-request-id", "req");
  EXPECT_EQ(b.correlation_id, "c1");

  rate_limit_headers c;
  c.offer("x-hubspot-correlation-id", "a\x01" "b\xFF");
  EXPECT_EQ(c.correlation_id, "a?b?");
  rate_limit_headers d;
  d.offer("x-hubspot-correlation-id", std::string(500, 'z'));
  EXPECT_EQ(d.correlation_id, std::string(128, 'z'));
  rate_limit_headers e;
  e.offer("x-hubspot-correlation-id", "");
  e.offer("x-request-id", "fallback");
  EXPECT_EQ(e.correlation_id, "fallback");
}

// ------------------------------------------------------------ kinds -------

TEST(response_decoder, empty_and_whitespace_bodies) {
  for (std::string body : {"", " ", "\r\n", "\n\t \n"}) {
    auto r = decode(body);
    EXPECT_EQ(r.kind, body_kind::empty) << body;
    EXPECT_EQ(r.message, "");
    EXPECT_EQ(r.num_errors, 0);
  }
}

TEST(response_decoder, html_from_a_proxy) {
  auto r = decode(
      "<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=utf-8\"/>\n"
      "<title>Error 404 Not Found</title>\n</head>\n<body><h2>HTTP ERROR 404</h2></body>\n</html>\n");
  EXPECT_EQ(r.kind, body_kind::not_json);
  EXPECT_EQ(r.message, "Error 404 Not Found");
  EXPECT_EQ(r.status, "");
  EXPECT_FALSE(r.batch_too_large);

  auto cf = decode("<!DOCTYPE html><html><head><TITLE> 502 Bad\n  Gateway </TITLE></head></html>");
  EXPECT_EQ(cf.kind, body_kind::not_json);
  EXPECT_EQ(cf.message, "502 Bad Gateway");
}

TEST(response_decoder, plain_text_and_json_non_objects) {
  auto text = decode("upstream connect error or disconnect/reset before headers.\r\n reset reason: overflow");
  EXPECT_EQ(text.kind, body_kind::not_json);
  EXPECT_EQ(text.message, "upstream connect error or disconnect/reset before headers. reset reason: overflow");
  for (std::string body : {"[]", "[{\"status\":\"error\"}]", "\"error\"", "42", "true", "null", "[1,"}) {
    auto r = decode(body);
    EXPECT_EQ(r.kind, body_kind::not_json) << body;
    EXPECT_EQ(r.status, "") << body;
  }
  auto bin = decode(std::string("\x00\x01\xFFzz", 5));
  EXPECT_EQ(bin.kind, body_kind::not_json);
  EXPECT_EQ(bin.message, "??\?zz");
  auto long_text = decode(std::string(1000, 'a'));
  EXPECT_EQ(long_text.message, std::string(160, 'a') + "...");
}

// Regression, issue 7 (fuzz_response_decoder): a whitespace run just before
// the 160-byte mark let the excerpt grow to 161 bytes plus "...".
TEST(response_decoder, excerpt_never_exceeds_160_bytes_plus_ellipsis) {
  for (std::size_t at = 150; at <= 165; ++at) {
    std::string body = std::string(at, 'x') + "   " + std::string(400, 'y');
    auto r = decode(body);
    EXPECT_LE(r.message.size(), 163u) << at;
    EXPECT_TRUE(r.message.ends_with("...")) << at;
  }
  EXPECT_EQ(decode(std::string(158, 'a') + " b").message, std::string(158, 'a') + " b");  // exactly 160: kept whole
  EXPECT_EQ(decode(std::string(159, 'a') + " b").message, std::string(159, 'a') + "...");
}

TEST(response_decoder, invalid_json) {
  for (std::string body : {
           "{", "{\"status\":", "{\"status\":\"COMPLETE\",\"results\":[", "{\"status\":\"err",
           "{\"status\":\"error\"} trailing", "{\"status\":\"error\"}{}", "{status:1}", "{\"a\":1,}",
           "{\"message\":\"bad escape \\q\"}", "{\"message\":\"bad utf8 \xC3\x28\"}",
           "{\"errors\":[{\"message\":\"x\"},]}", "{\"numErrors\":1,\"errors\":[{\"context\":{\"fromObjectId\":[\"1\",]}}]}",
           "{\"status\":\"error\",\"message\":\"The maximum number of inputs supported in a batch is 100\""}) {
    auto r = decode(body);
    EXPECT_EQ(r.kind, body_kind::invalid_json) << body;
    EXPECT_EQ(r.status, "") << body;  // nothing partial survives
    EXPECT_TRUE(r.errors.empty()) << body;
    EXPECT_FALSE(r.batch_too_large) << body;
    EXPECT_FALSE(r.message.empty()) << body;
  }
  auto r = decode("{\"status\": \"COMPLETE\", \"results\": [], \"startedAt\"");
  EXPECT_EQ(r.message, "{\"status\": \"COMPLETE\", \"results\": [], \"startedAt\"");
}

TEST(response_decoder, truncated_at_every_byte_never_crashes_or_decodes) {
  const std::string full =
      R"({"status": "COMPLETE", "results": [], "numErrors": 1,
 "errors": [{"status": "error", "category": "OBJECT_NOT_FOUND",
             "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
             "message": "No company is associated with deal 515690208449.",
             "context": {"fromObjectId": ["515690208449"], "fromObjectType": ["deal"], "toObjectType": ["company"]}}],
 "startedAt": "2026-08-20T10:00:00.120Z", "completedAt": "2026-08-20T10:00:00.183Z"})";
  response_decoder decoder;  // one decoder reused across all documents
  decoded_response out;
  for (std::size_t n = 1; n < full.size(); ++n) {
    std::string body = full.substr(0, n);
    decoder.decode(body, out);
    // Every proper prefix is either incomplete JSON or ends inside the
    // object; none may decode as an object.
    ASSERT_EQ(out.kind, body_kind::invalid_json) << n;
    ASSERT_TRUE(out.errors.empty());
  }
  std::string body = full;
  decoder.decode(body, out);
  EXPECT_EQ(out.kind, body_kind::json_object);
  EXPECT_EQ(out.num_errors, 1);
}

// ------------------------------------------------------------ section 1 ---

TEST(response_decoder, batch_response_void) {
  // docs/hubspot-api.md section 1.2
  auto r = decode(R"({"status": "COMPLETE", "results": [], "startedAt": "2026-08-20T10:00:00.120Z",
 "completedAt": "2026-08-20T10:00:00.183Z", "requestedAt": null, "links": {}})");
  EXPECT_EQ(r.kind, body_kind::json_object);
  EXPECT_EQ(r.status, "COMPLETE");
  EXPECT_EQ(r.num_errors, 0);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.message, "");
  EXPECT_EQ(r.category, "");
  EXPECT_FALSE(r.batch_too_large);
}

TEST(response_decoder, batch_response_207_no_associations) {
  // docs/hubspot-api.md section 1.3, verbatim (including the "…" placeholders).
  auto r = decode(R"({"status": "COMPLETE", "results": [], "numErrors": 1,
 "errors": [{"status": "error", "category": "OBJECT_NOT_FOUND",
             "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
             "message": "No company is associated with deal 515690208449.",
             "context": {"fromObjectId": ["515690208449"], "fromObjectType": ["deal"], "toObjectType": ["company"]}}],
 "startedAt": "…", "completedAt": "…"})");
  EXPECT_EQ(r.kind, body_kind::json_object);
  EXPECT_EQ(r.status, "COMPLETE");
  EXPECT_EQ(r.num_errors, 1);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].category, "OBJECT_NOT_FOUND");
  EXPECT_EQ(r.errors[0].sub_category, "crm.associations.NO_ASSOCIATIONS_FOUND");
  EXPECT_EQ(r.errors[0].message, "No company is associated with deal 515690208449.");
  EXPECT_EQ(r.errors[0].from_ids, (ids{515690208449ULL}));
  EXPECT_EQ(r.errors[0].to_ids, ids{});
  EXPECT_EQ(r.category, "");
}

TEST(response_decoder, standard_error_per_spec_with_object_subcategory_and_nested_details) {
  auto r = decode(R"({"status":"COMPLETE","results":[],"numErrors":2,"errors":[
    {"status":"error","category":"VALIDATION_ERROR","subCategory":{"code":"crm.associations.INVALID_IDENTIFIER","n":1},
     "message":"bad id","context":{"from":["12","x"],"to":["34",56,"18446744073709551616",-1,1.5,null,["7"]]},
     "errors":[{"message":"detail","code":"c","in":"body","subCategory":"s",
                "context":{"toObjectId":["78"],"requiredScopes":["crm.objects.contacts.write"]}}],
     "links":{"a":"b"},"id":"e1"},
    {"status":"error","category":"VALIDATION_ERROR","subCategory":"crm.associations.INVALID_IDENTIFIER",
     "message":"bad to","context":{"fromId":"90","toId":91,"ids":["1"]}}],
    "startedAt":"2026-08-20T10:00:00.120Z","completedAt":"2026-08-20T10:00:00.183Z"})");
  ASSERT_EQ(r.kind, body_kind::json_object);
  EXPECT_EQ(r.num_errors, 2);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].sub_category, R"({"code":"crm.associations.INVALID_IDENTIFIER","n":1})");
  EXPECT_EQ(r.errors[0].message, "bad id");
  EXPECT_EQ(r.errors[0].from_ids, (ids{12}));
  EXPECT_EQ(r.errors[0].to_ids, (ids{34, 56, 78}));
  EXPECT_EQ(r.errors[1].from_ids, (ids{90}));
  EXPECT_EQ(r.errors[1].to_ids, (ids{91}));
  EXPECT_EQ(r.required_scopes, (strings{"crm.objects.contacts.write"}));
}

TEST(response_decoder, num_errors_absent_or_odd) {
  auto a = decode(R"({"status":"COMPLETE","errors":[{"message":"a"},{"message":"b"},"plain",7]})");
  EXPECT_EQ(a.num_errors, 4);
  ASSERT_EQ(a.errors.size(), 4u);
  EXPECT_EQ(a.errors[2].message, "plain");
  EXPECT_EQ(a.errors[3].message, "");
  for (std::string_view v : {"-1", "1.5", "\"3\"", "null", "99999999999999999999999", "9223372036854775808",
                             "{}", "[1]", "1e2"}) {
    auto r = decode(std::string(R"({"numErrors":)") + std::string(v) + R"(,"errors":[{"message":"m"}]})");
    EXPECT_EQ(r.kind, body_kind::json_object) << v;
    EXPECT_EQ(r.num_errors, 1) << v;
  }
  auto big = decode(R"({"numErrors":9223372036854775807})");
  EXPECT_EQ(big.num_errors, std::numeric_limits<std::int64_t>::max());
  auto zero = decode(R"({"numErrors":0,"errors":[]})");
  EXPECT_EQ(zero.num_errors, 0);
  auto literal = decode(R"({"numErrors":5,"errors":[{"message":"only one"}]})");
  EXPECT_EQ(literal.num_errors, 5);
  EXPECT_EQ(literal.errors.size(), 1u);
}

// ------------------------------------------------------------ section 2 ---

TEST(response_decoder, batch_too_large) {
  // docs/hubspot-api.md section 2, verbatim.
  auto r = decode(R"({"status": "error",
 "message": "The maximum number of inputs supported in a batch is 100. Please reduce the number of items and try again",
 "correlationId": "3784ea30-07ce-4866-98e8-bf691d18899e", "category": "VALIDATION_ERROR"})");
  EXPECT_EQ(r.kind, body_kind::json_object);
  EXPECT_TRUE(r.batch_too_large);
  EXPECT_EQ(r.status, "error");
  EXPECT_EQ(r.category, "VALIDATION_ERROR");
  EXPECT_EQ(r.correlation_id, "3784ea30-07ce-4866-98e8-bf691d18899e");

  EXPECT_TRUE(decode(R"({"message":"The MAXIMUM Number Of Inputs supported in a batch request for property histories is 50"})")
                  .batch_too_large);
  EXPECT_TRUE(decode(R"({"message":"x","errors":[{"message":"maximum number of inputs exceeded"}]})").batch_too_large);
  EXPECT_FALSE(decode(R"({"message":"maximum number of outputs"})").batch_too_large);
  EXPECT_FALSE(decode(R"({"msg":"maximum number of inputs"})").batch_too_large);
}

// ------------------------------------------------------------ section 4.2 -

TEST(response_decoder, rate_limit_ten_secondly) {
  auto r = decode(R"({"status": "error", "message": "You have reached your ten_secondly_rolling limit.", "errorType": "RATE_LIMIT",
 "correlationId": "c93e06a4-7d61-4c3e-b63f-edf486fc6e90", "policyName": "TEN_SECONDLY_ROLLING",
 "groupName": "publicapi:hapikey-api-calls-ten-secondly:6748263"})");
  EXPECT_EQ(r.kind, body_kind::json_object);
  EXPECT_EQ(r.error_type, "RATE_LIMIT");
  EXPECT_EQ(r.policy_name, "TEN_SECONDLY_ROLLING");
  EXPECT_EQ(r.message, "You have reached your ten_secondly_rolling limit.");
  EXPECT_EQ(r.correlation_id, "c93e06a4-7d61-4c3e-b63f-edf486fc6e90");
  EXPECT_EQ(r.category, "");
  EXPECT_EQ(r.num_errors, 0);
}

TEST(response_decoder, rate_limit_daily) {
  auto r = decode(R"({"status": "error", "message": "You have reached your daily limit.", "errorType": "RATE_LIMIT",
 "correlationId": "c033cdaa-2c40-4a64-ae48-b4cec88dad24", "policyName": "DAILY",
 "requestId": "3d3e35b7-0dae-4b9f-a6e3-9c230cbcf8dd"})");
  EXPECT_EQ(r.error_type, "RATE_LIMIT");
  EXPECT_EQ(r.policy_name, "DAILY");
  EXPECT_EQ(r.correlation_id, "c033cdaa-2c40-4a64-ae48-b4cec88dad24");
}

TEST(response_decoder, rate_limit_secondly_without_policy) {
  auto r = decode(R"({"status": "error", "message": "You have reached your secondly limit.", "errorType": "RATE_LIMIT",
 "correlationId": "019db0fe-8af2-7952-…"})");
  EXPECT_EQ(r.kind, body_kind::json_object);
  EXPECT_EQ(r.error_type, "RATE_LIMIT");
  EXPECT_EQ(r.policy_name, "");
  EXPECT_EQ(r.correlation_id, "019db0fe-8af2-7952-…");
}

// ------------------------------------------------------------ section 5 ---

TEST(response_decoder, error_envelopes_400) {
  auto a = decode(R"({"status": "error", "message": "Invalid input JSON on line 1, column 11: Cannot deserialize instance of `java.util.ArrayList` …", "correlationId": "…"})");
  EXPECT_EQ(a.kind, body_kind::json_object);
  EXPECT_EQ(a.message,
            "Invalid input JSON on line 1, column 11: Cannot deserialize instance of `java.util.ArrayList` …");
  EXPECT_EQ(a.category, "");
  EXPECT_FALSE(a.batch_too_large);

  auto b = decode(R"({"status": "error", "message": "Invalid JSON input: a request body was expected, but none found", "correlationId": "a8c46543-…", "category": "VALIDATION_ERROR"})");
  EXPECT_EQ(b.category, "VALIDATION_ERROR");
  EXPECT_EQ(b.correlation_id, "a8c46543-…");

  auto c = decode(R"({"status": "error", "message": "Unable to infer object type from: widgets", "correlationId": "019db0fe-…"})");
  EXPECT_EQ(c.message, "Unable to infer object type from: widgets");

  auto d = decode(R"({"status": "error", "message": "test is not a valid association type between deals and contacts", "correlationId": "…",
 "context": {"type": ["test"], "fromObjectType": ["deals"], "toObjectType": ["contacts"]},
 "category": "VALIDATION_ERROR", "subCategory": "crm.associations.INVALID_ASSOCIATION_TYPE"})");
  EXPECT_EQ(d.category, "VALIDATION_ERROR");
  EXPECT_EQ(d.sub_category, "crm.associations.INVALID_ASSOCIATION_TYPE");
  EXPECT_EQ(d.context_from_ids, ids{});  // object types are not ids
  EXPECT_EQ(d.context_to_ids, ids{});
  EXPECT_TRUE(d.errors.empty());
}

TEST(response_decoder, top_level_context_ids) {
  auto r = decode(R"({"status":"error","message":"bad ids","category":"VALIDATION_ERROR",
    "subCategory":"crm.associations.INVALID_IDENTIFIER",
    "context":{"fromObjectId":["101","0101"],"toObjectId":["9001","abc",""],"FROM_IDS":["5"]}})");
  EXPECT_EQ(r.context_from_ids, (ids{101, 101, 5}));
  EXPECT_EQ(r.context_to_ids, (ids{9001}));
}

TEST(response_decoder, error_envelopes_401) {
  auto a = decode(R"({"status": "error", "message": "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview", "correlationId": "…", "category": "INVALID_AUTHENTICATION"})");
  EXPECT_EQ(a.category, "INVALID_AUTHENTICATION");
  EXPECT_EQ(a.status, "error");

  auto b = decode(R"({"status": "error", "message": "The OAuth token used to make this call expired 75 second(s) ago.", "correlationId": "…",
 "category": "EXPIRED_AUTHENTICATION", "context": {"expire time": ["2022-06-21T10:37:52.040Z"]}})");
  EXPECT_EQ(b.category, "EXPIRED_AUTHENTICATION");
  EXPECT_EQ(b.message, "The OAuth token used to make this call expired 75 second(s) ago.");
  EXPECT_TRUE(b.context_from_ids.empty());
  EXPECT_TRUE(b.required_scopes.empty());
}

TEST(response_decoder, error_envelope_403_missing_scopes) {
  auto r = decode(R"({"status": "error", "message": "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
 "correlationId": "c757f599-…", "errors": [{"message": "One or more of the following scopes are required.",
 "context": {"requiredGranularScopes": ["crm.objects.custom.highly_sensitive.write.v2"]}}],
 "links": {"scopes": "https://developers.hubspot.com/scopes"}, "category": "MISSING_SCOPES"})");
  EXPECT_EQ(r.kind, body_kind::json_object);
  EXPECT_EQ(r.category, "MISSING_SCOPES");
  EXPECT_EQ(r.required_scopes, (strings{"crm.objects.custom.highly_sensitive.write.v2"}));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].message, "One or more of the following scopes are required.");
  EXPECT_EQ(r.num_errors, 1);
}

TEST(response_decoder, older_scope_shapes) {
  auto r = decode(R"({"status":"error","message":"This app hasn't been granted all required scopes to make this call.",
    "category":"MISSING_SCOPES","context":{"requiredScopes":["crm.objects.contacts.write","crm.objects.companies.write"]},
    "errors":[{"message":"All of the following scopes are required.",
               "context":{"requiredScopes":["crm.objects.companies.write","tickets"],"requiredGranularScopes":"single"}}]})");
  EXPECT_EQ(r.required_scopes,
            (strings{"crm.objects.contacts.write", "crm.objects.companies.write", "tickets", "single"}));
}

TEST(response_decoder, error_envelopes_404_and_500) {
  auto a = decode(R"({"status": "error", "message": "resource not found", "correlationId": "019db0fe-7069-…"})");
  EXPECT_EQ(a.message, "resource not found");
  EXPECT_EQ(a.correlation_id, "019db0fe-7069-…");
  auto b = decode(R"({"correlationId": "019db0fe-6897-…", "message": "internal error", "status": "error"})");
  EXPECT_EQ(b.kind, body_kind::json_object);
  EXPECT_EQ(b.message, "internal error");
  EXPECT_EQ(b.status, "error");
  EXPECT_EQ(b.correlation_id, "019db0fe-6897-…");
}

// ------------------------------------------------------------ robustness --

TEST(response_decoder, unexpected_types_in_every_field) {
  auto r = decode(R"({"status":1,"message":{"a":"b"},"category":["x"],"subCategory":null,"correlationId":true,
    "errorType":2.5,"policyName":{},"numErrors":"1","errors":{"a":1},"context":["fromObjectId"]})");
  EXPECT_EQ(r.kind, body_kind::json_object);
  EXPECT_EQ(r.status, "");
  EXPECT_EQ(r.message, "");
  EXPECT_EQ(r.category, "");
  EXPECT_EQ(r.sub_category, "");
  EXPECT_EQ(r.correlation_id, "");
  EXPECT_EQ(r.error_type, "");
  EXPECT_EQ(r.policy_name, "");
  EXPECT_EQ(r.num_errors, 0);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_TRUE(r.context_from_ids.empty());

  auto items = decode(R"({"errors":[{"category":5,"subCategory":["a",1],"message":null,"context":"fromObjectId",
    "errors":"x"},{"context":{"fromObjectId":{"id":"1"},"toObjectId":true,"requiredScopes":[1,{"a":"b"},"ok"]},
    "errors":[1,"x",{"context":{"from":[["2"]]}}]}]})");
  ASSERT_EQ(items.kind, body_kind::json_object);
  ASSERT_EQ(items.errors.size(), 2u);
  EXPECT_EQ(items.errors[0].category, "");
  EXPECT_EQ(items.errors[0].sub_category, R"(["a",1])");
  EXPECT_EQ(items.errors[0].message, "");
  EXPECT_TRUE(items.errors[1].from_ids.empty());
  EXPECT_TRUE(items.errors[1].to_ids.empty());
  EXPECT_EQ(items.required_scopes, (strings{"ok"}));
}

TEST(response_decoder, huge_numbers_and_deep_nesting) {
  auto r = decode(R"({"status":"COMPLETE","big":123456789012345678901234567890e999999,"neg":-1e-999999,
    "numErrors":1e400,"errors":[{"context":{"from":[123456789012345678901234567890,18446744073709551615,1e5]}}]})");
  ASSERT_EQ(r.kind, body_kind::json_object);
  EXPECT_EQ(r.status, "COMPLETE");
  EXPECT_EQ(r.num_errors, 1);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].from_ids, (ids{18446744073709551615ULL}));

  // An unread field is skipped without recursion, however deep; unbalanced
  // nesting is still caught.
  std::string deep = "{\"status\":\"x\",\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto d = decode(deep);
  EXPECT_EQ(d.kind, body_kind::json_object);
  EXPECT_EQ(d.status, "x");
  std::string unbalanced = "{\"status\":\"x\",\"a\":" + std::string(100000, '[') + "}";
  EXPECT_EQ(decode(unbalanced).kind, body_kind::invalid_json);
  // Deep nesting inside fields the decoder walks.
  std::string deep_errors = "{\"errors\":[{\"errors\":[{\"errors\":" + std::string(100000, '[') +
                            std::string(100000, ']') + "}]}],\"context\":{\"from\":" + std::string(50000, '[') +
                            std::string(50000, ']') + "}}";
  auto e = decode(deep_errors);
  EXPECT_EQ(e.kind, body_kind::json_object);
  EXPECT_EQ(e.errors.size(), 1u);
  EXPECT_TRUE(e.context_from_ids.empty());
}

TEST(response_decoder, escapes_and_duplicate_keys) {
  auto r = decode(R"({"message":"line\nbreak \u00e9 \"q\"","status":"a","status":"b","mess\u0061ge2":"x"})");
  ASSERT_EQ(r.kind, body_kind::json_object);
  EXPECT_EQ(r.message, "line break \xC3\xA9 \"q\"");  // a newline would forge log lines (issue 7)
  EXPECT_EQ(r.status, "b");
  auto k = decode(R"({"st\u0061tus":"escaped key"})");
  EXPECT_EQ(k.status, "escaped key");
}

TEST(response_decoder, decoder_reuse_clears_previous_result) {
  response_decoder decoder;
  decoded_response out;
  std::string a = R"({"status":"error","message":"The maximum number of inputs supported in a batch is 100","numErrors":3,
    "errors":[{"context":{"fromObjectId":["1"]}}],"context":{"toObjectId":["2"],"requiredScopes":["s"]},
    "errorType":"RATE_LIMIT","policyName":"DAILY","category":"c","subCategory":"s","correlationId":"id"})";
  decoder.decode(a, out);
  ASSERT_TRUE(out.batch_too_large);
  std::string b = "{}";
  decoder.decode(b, out);
  EXPECT_EQ(out.kind, body_kind::json_object);
  EXPECT_EQ(out.status, "");
  EXPECT_EQ(out.message, "");
  EXPECT_EQ(out.category, "");
  EXPECT_EQ(out.sub_category, "");
  EXPECT_EQ(out.correlation_id, "");
  EXPECT_EQ(out.error_type, "");
  EXPECT_EQ(out.policy_name, "");
  EXPECT_EQ(out.num_errors, 0);
  EXPECT_TRUE(out.errors.empty());
  EXPECT_TRUE(out.required_scopes.empty());
  EXPECT_TRUE(out.context_from_ids.empty());
  EXPECT_TRUE(out.context_to_ids.empty());
  EXPECT_FALSE(out.batch_too_large);
  std::string c;
  decoder.decode(c, out);
  EXPECT_EQ(out.kind, body_kind::empty);
}

TEST(response_decoder, body_is_padded_in_place_and_content_unchanged) {
  std::string body = R"({"status":"COMPLETE"})";
  body.shrink_to_fit();
  const std::string copy = body;
  response_decoder decoder;
  decoded_response out;
  decoder.decode(body, out);
  EXPECT_EQ(out.status, "COMPLETE");
  EXPECT_EQ(body, copy);
  EXPECT_GE(body.capacity(), body.size() + simdjson::SIMDJSON_PADDING);
}

TEST(response_decoder, body_kind_names) {
  EXPECT_STREQ(hubbatch::codec::to_string(body_kind::empty), "empty");
  EXPECT_STREQ(hubbatch::codec::to_string(body_kind::json_object), "json_object");
  EXPECT_STREQ(hubbatch::codec::to_string(body_kind::not_json), "not_json");
  EXPECT_STREQ(hubbatch::codec::to_string(body_kind::invalid_json), "invalid_json");
}

}  // namespace

// Issue 7: a server that echoes the token never gets it into a message.
TEST(response_decoder, redact_removes_the_token_everywhere) {
  const std::string token = "pat-na1-SECRET-CANARY-0123";
  auto r = decode("{\"status\":\"error\",\"message\":\"bad token Bearer " + token + " (" + token +
                  ")\",\"category\":\"" + token + "\",\"subCategory\":{\"t\":\"" + token +
                  "\"},\"errors\":[{\"message\":\"" + token + "\",\"category\":\"x" + token +
                  "\",\"context\":{\"requiredScopes\":[\"" + token + "\"]}}]}");
  ASSERT_EQ(r.kind, body_kind::json_object);
  hubbatch::codec::redact(r, token);
  EXPECT_EQ(r.message, "bad token Bearer [REDACTED] ([REDACTED])");
  EXPECT_EQ(r.category, "[REDACTED]");
  EXPECT_EQ(r.sub_category.find(token), std::string::npos);
  EXPECT_EQ(r.errors.at(0).message, "[REDACTED]");
  EXPECT_EQ(r.errors.at(0).category, "x[REDACTED]");
  EXPECT_EQ(r.required_scopes.at(0), "[REDACTED]");
  auto html = decode("<html><title>token " + token + "</title></html>");
  hubbatch::codec::redact(html, token);
  EXPECT_EQ(html.message, "token [REDACTED]");
  auto short_secret = decode("{\"message\":\"error\"}");
  hubbatch::codec::redact(short_secret, "err");  // too short to be a token: left alone
  EXPECT_EQ(short_secret.message, "error");
}

// Issue 7: texts from a server reach stderr and the failures file; escape
// sequences in them must not reach a terminal.
TEST(response_decoder, control_characters_in_texts_are_neutralised) {
  auto r = decode(
      "{\"status\":\"error\",\"message\":\"a\\u001b[31mred\\u0007 b\\r\\nc\\td\\u007f \\u009b2J \\u00e9t\\u00e9\","
      "\"category\":\"X\\u001b]0;title\\u0007\",\"errors\":[{\"message\":\"\\u001b[2J\",\"category\":\"\\u0000\"}],"
      "\"context\":{\"requiredScopes\":[\"s\\u001bx\"]}}");
  ASSERT_EQ(r.kind, body_kind::json_object);
  EXPECT_EQ(r.message, "a?[31mred? b  c d? ?2J \xc3\xa9t\xc3\xa9");
  EXPECT_EQ(r.category, "X?]0;title?");
  EXPECT_EQ(r.errors.at(0).message, "?[2J");
  EXPECT_EQ(r.errors.at(0).category, "?");
  EXPECT_EQ(r.required_scopes.at(0), "s?x");
}
