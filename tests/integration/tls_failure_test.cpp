// Issue 7: a server that cannot prove it is the one asked for is refused
// before the token leaves: unknown CA, host or IP mismatch, expired
// certificate, self-signed certificate, TLS 1.1 only. Each runs a real job
// and checks the failure names the cause (the failures file carries the
// transport error text), no request reached the server, and the books balance.
#include "cli/exit_codes.hpp"
#include "engine/job.hpp"

#include "integration/hardening.hpp"
#include "io/local_ca.hpp"
#include "io/tls.hpp"
#include "support/test_pki.hpp"
#include "support/tls_test_server.hpp"

#include <openssl/ssl.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

using namespace hubbatch;
using hubbatch::test::tls_test_server;

namespace {

struct tls_case_result {
  engine::job_result job;
  std::string failures;
  tls_test_server::stats_t server;
  double seconds = 0;
};

// Runs a 3-pair job against a server using `server_ctx`, trusting `ca_pem`.
tls_case_result run_against(boost::asio::ssl::context server_ctx, const std::string& ca_pem,
                            const std::string& host = "127.0.0.1") {
  tls_test_server srv(std::move(server_ctx), tls_test_server::answer_204());  // must never see a request
  test::scratch_dir dir;
  auto cfg = test::short_job("https://" + host + ":" + std::to_string(srv.port()),
                             test::write_text(dir.file("pairs.csv"), "1,2\n1,3\n4,5\n"));
  cfg.failures_path = dir.file("failures.csv");
  tls_case_result out;
  auto start = std::chrono::steady_clock::now();
  out.job = engine::run_job(cfg, test::quiet_options(ca_pem));
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(srv.wait_idle());
  out.server = srv.stats();
  out.failures = test::read_text(cfg.failures_path);
  return out;
}

// A refused certificate stops the run at once (exit 2, nothing retried):
// every pair stays pending for a rerun once the certificate is fixed.
void expect_refused(const tls_case_result& r, const std::string& cause) {
  test::expect_balanced(r.job);
  EXPECT_EQ(r.job.totals.pending_pairs, 3u);
  EXPECT_EQ(r.job.totals.failed_pairs, 0u);
  EXPECT_EQ(r.job.totals.done_pairs, 0u);
  EXPECT_EQ(r.job.totals.connections_opened, 0u);
  EXPECT_EQ(cli::decide_exit(r.job, false).code, 2);
  EXPECT_EQ(r.job.context.stop_reason, "tls");
  EXPECT_NE(r.job.stop_message.find(cause), std::string::npos) << "the stop message should name '" << cause
                                                               << "': " << r.job.stop_message;
  EXPECT_NE(r.failures.find("tls"), std::string::npos) << "pending pairs name the stop:\n" << r.failures;
  EXPECT_EQ(r.server.connections, 1u) << "one try, no retry against a certificate that failed";
  EXPECT_TRUE(r.server.request_heads.empty()) << "no request (so no token) may cross a refused handshake";
  for (const auto& c : r.server.records) EXPECT_FALSE(c.handshake_ok);
  EXPECT_LT(r.seconds, 15.0);
}

boost::asio::ssl::context server_for(const io::local_pki& pki) {
  return io::make_server_context(pki.server_cert_pem, pki.server_key_pem);
}

}  // namespace

TEST(tls_failure, control_a_valid_certificate_is_accepted) {
  // The same harness with a good certificate archives everything, so the
  // refusals below are about the certificates and nothing else.
  auto pki = io::generate_local_pki();
  auto r = run_against(server_for(pki), pki.ca_cert_pem);
  test::expect_balanced(r.job);
  EXPECT_EQ(r.job.totals.done_pairs, 3u);
  ASSERT_EQ(r.server.request_heads.size(), 1u);  // two from-ids, one batch
  EXPECT_NE(r.server.request_heads[0].find("Bearer pat-na1-test-token"), std::string::npos)
      << "a trusted server does get the token; the refusals below must not";
}

TEST(tls_failure, unknown_ca_is_refused_and_named) {
  auto pki = io::generate_local_pki();
  auto other = io::generate_local_pki();
  expect_refused(run_against(server_for(pki), other.ca_cert_pem), "unable to get local issuer certificate");
}

TEST(tls_failure, ip_mismatch_is_refused_and_named) {
  test::test_pki_options o;
  o.server_names = "DNS:api.hubapi.com";
  auto pki = test::generate_test_pki(o);
  expect_refused(run_against(server_for(pki), pki.ca_cert_pem), "IP address mismatch");
}

TEST(tls_failure, hostname_mismatch_is_refused_and_named) {
  test::test_pki_options o;
  o.server_names = "DNS:api.hubapi.com,IP:127.0.0.1";
  auto pki = test::generate_test_pki(o);
  expect_refused(run_against(server_for(pki), pki.ca_cert_pem, "localhost"), "hostname mismatch");
}

TEST(tls_failure, expired_certificate_is_refused_and_named) {
  test::test_pki_options o;
  o.not_before_s = -30L * 24 * 3600;
  o.not_after_s = -24L * 3600;
  auto pki = test::generate_test_pki(o);
  expect_refused(run_against(server_for(pki), pki.ca_cert_pem), "certificate has expired");
}

TEST(tls_failure, self_signed_server_certificate_is_refused_and_named) {
  test::test_pki_options o;
  o.self_signed_server = true;
  auto pki = test::generate_test_pki(o);
  expect_refused(run_against(server_for(pki), pki.ca_cert_pem), "self-signed certificate");
}

TEST(tls_failure, tls_1_1_only_server_is_refused_and_named) {
  auto pki = io::generate_local_pki();
  boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_server);
  SSL_CTX* h = ctx.native_handle();
  SSL_CTX_set_security_level(h, 0);
  ASSERT_EQ(SSL_CTX_set_min_proto_version(h, TLS1_1_VERSION), 1);
  ASSERT_EQ(SSL_CTX_set_max_proto_version(h, TLS1_1_VERSION), 1);
  ASSERT_EQ(SSL_CTX_set_cipher_list(h, "DEFAULT:@SECLEVEL=0"), 1);
  ctx.use_certificate_chain(boost::asio::buffer(pki.server_cert_pem));
  ctx.use_private_key(boost::asio::buffer(pki.server_key_pem), boost::asio::ssl::context::pem);
  expect_refused(run_against(std::move(ctx), pki.ca_cert_pem), "does not offer TLS 1.2 or later");
}
