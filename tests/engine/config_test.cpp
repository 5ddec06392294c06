#include "engine/config.hpp"

#include <gtest/gtest.h>

using namespace hubbatch::engine;

TEST(config, object_types_allow_list) {
  for (const char* ok : {"contacts", "Companies", "line_items", "0-1", "0-410", "2-123456", "p_vendor",
                         "p7878787_my_object"})
    EXPECT_TRUE(valid_object_type(ok)) << ok;
  for (const char* bad : {"", "../admin", "contacts/companies", "a b", "1-2", "0-", "0-1a", "%2e", "contacts?x=1",
                          "_x", "2-1234567890123"})
    EXPECT_FALSE(valid_object_type(bad)) << bad;
}

TEST(config, archive_targets_per_version) {
  EXPECT_EQ(archive_target("v4", "contacts", "companies"), "/crm/v4/associations/contacts/companies/batch/archive");
  EXPECT_EQ(archive_target("2026-03", "0-1", "0-2"), "/crm/associations/2026-03/0-1/0-2/batch/archive");
}

TEST(config, base_url_parsing) {
  std::string err;
  auto u = parse_base_url("https://api.hubapi.com", err);
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "api.hubapi.com");
  EXPECT_EQ(u->port, "443");
  u = parse_base_url("https://127.0.0.1:8443/", err);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, "8443");
  u = parse_base_url("https://[::1]:9000", err);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_TRUE(parse_base_url("http://127.0.0.1:8080", err));
  EXPECT_TRUE(parse_base_url("http://localhost:8080", err));
  EXPECT_FALSE(parse_base_url("http://api.hubapi.com", err));
  EXPECT_NE(err.find("clear text"), std::string::npos);
  EXPECT_FALSE(parse_base_url("ftp://x", err));
  EXPECT_FALSE(parse_base_url("https://user:pw@host", err));
  EXPECT_FALSE(parse_base_url("https://host/path", err));
  EXPECT_FALSE(parse_base_url("https://host:99999", err));
}

TEST(config, url_errors_never_show_credentials_or_control_bytes) {
  std::string err;
  for (const std::string url : {"https://user:s3cr3t-pw@host", "https://user:s3cr3t-pw@host/path",
                                "ftp://user:s3cr3t-pw@host", "https://u:s3cr3t-pw@[::1:9000"}) {
    SCOPED_TRACE(url);
    EXPECT_FALSE(parse_base_url(url, err));
    EXPECT_EQ(err.find("s3cr3t-pw"), std::string::npos) << err;
    EXPECT_NE(err.find("***@"), std::string::npos) << err;
  }
  for (const std::string url : {"http://user:s3cr3t-pw%zz@proxy:3128", "https://user:s3cr3t-pw@proxy:3128",
                                "http://user:s3cr3t-pw@proxy:3128/x y"}) {
    SCOPED_TRACE(url);
    EXPECT_FALSE(parse_proxy_url(url, err));
    EXPECT_EQ(err.find("s3cr3t-pw"), std::string::npos) << err;
  }
  EXPECT_FALSE(parse_base_url("https://host\x1b]0;owned\x07/", err));
  EXPECT_EQ(err.find('\x1b'), std::string::npos) << err;
  EXPECT_NE(err.find("\\x1b"), std::string::npos) << err;
  EXPECT_FALSE(parse_base_url("https://" + std::string(5000, 'h') + "/", err));
  EXPECT_LT(err.size(), 400u);
  EXPECT_EQ(shown_url("https://a:b@c:1/p@q"), "https://***@q") << "up to the last @, whatever it is";
  EXPECT_EQ(shown_url("https://host:1"), "https://host:1");
  EXPECT_EQ(shown_url("user:pw@proxy:3128"), "***@proxy:3128") << "no scheme: still hidden";
  // Regression (fuzz_config_parsers): text before a "://" that is no scheme
  // was shown as if it were one, userinfo included.
  EXPECT_EQ(shown_url("h/%3f:[:Ass@pttp://%3f:[:Ass@pr0"), "***@pr0");
  EXPECT_EQ(shown_url("http://user:p/w@proxy:1"), "http://***@proxy:1") << "a '/' in the password";
  EXPECT_FALSE(parse_proxy_url("user:s3cr3t-pw@proxy:3128", err));
  EXPECT_EQ(err.find("s3cr3t-pw"), std::string::npos) << err;
}

TEST(config, validate_names_the_problem) {
  archive_config c;
  c.from_type = "contacts";
  c.to_type = "companies";
  c.input = "pairs.csv";
  EXPECT_EQ(validate(c), "");
  c.to_type = "comp/anies";
  EXPECT_NE(validate(c).find("--to-type"), std::string::npos);
  c.to_type = "companies";
  c.api_version = "v3";
  EXPECT_NE(validate(c).find("--api-version"), std::string::npos);
  c.api_version = "2026-09";
  c.base_url = "http://example.com";
  EXPECT_NE(validate(c).find("http://"), std::string::npos);
}

TEST(config, valid_token_is_visible_ascii_only) {
  using hubbatch::engine::valid_token;
  EXPECT_TRUE(valid_token("pat-na1-0123abcd-ef01-2345-6789-abcdef012345"));
  EXPECT_TRUE(valid_token("x"));
  EXPECT_FALSE(valid_token(""));
  EXPECT_FALSE(valid_token("pat\nX-Evil: 1"));
  EXPECT_FALSE(valid_token("pat\r"));
  EXPECT_FALSE(valid_token("pat tok"));
  EXPECT_FALSE(valid_token(std::string("pat\0", 4)));
  EXPECT_FALSE(valid_token("pat\x7f"));
  EXPECT_FALSE(valid_token("p\xc3\xa4t"));
  EXPECT_FALSE(valid_token(std::string(4097, 'a')));
  EXPECT_TRUE(valid_token(std::string(4096, 'a')));
}

// Regression, issue 7 (fuzz_config_parsers): a host with CR or ']' parsed,
// and the host goes into the Host header, SNI and the resolver.
TEST(config, base_url_host_is_a_name_or_an_ip_literal) {
  using hubbatch::engine::parse_base_url;
  std::string err;
  EXPECT_FALSE(parse_base_url("https://:1\r]:443/", err));
  EXPECT_FALSE(err.empty());
  EXPECT_FALSE(parse_base_url(std::string("https://[::\0\n1]:443/", 20), err));  // NUL ends inet_pton's view
  EXPECT_FALSE(parse_base_url(std::string("http://127.0.0.1\0.evil.com", 26), err));
  for (const char* bad : {"https://host\r\nX-Evil:1", "https://ho\rst", "https://ex%41mple.com", "https://[zz]:1",
                          "https://[::1%eth0]:1", "https://a]b:1", "https://a[b", "https://h\tst", "https://h\x7fst",
                          "https://h\xc3\xa4st.de", "http://[::1\r]:80"}) {
    EXPECT_FALSE(parse_base_url(bad, err)) << bad;
  }
  for (const char* good : {"https://api.hubapi.com", "https://my-proxy_1.internal:8443", "https://[::1]:9000",
                           "https://[2001:db8::1]", "https://127.0.0.1", "http://[::1]:8080"}) {
    EXPECT_TRUE(parse_base_url(good, err)) << good << ": " << err;
  }
}
