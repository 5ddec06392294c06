#include "io/tls.hpp"

#include "io/files.hpp"
#include "io/local_ca.hpp"
#include "support/test_pki.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <gtest/gtest.h>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <unistd.h>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Runs one blocking TLS handshake between a server thread and a client that
// verifies `peer_name`; returns the client's handshake error.
boost::system::error_code handshake_with(const hubbatch::io::local_pki& pki, asio::ssl::context& client_ctx,
                                         const std::string& peer_name) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto server_ctx = hubbatch::io::make_server_context(pki.server_cert_pem, pki.server_key_pem);
  std::thread server([&] {
    asio::ssl::stream<tcp::socket> s(acceptor.accept(), server_ctx);
    boost::system::error_code ec;
    s.handshake(asio::ssl::stream_base::server, ec);
  });
  asio::ssl::stream<tcp::socket> c(io, client_ctx);
  c.next_layer().connect(acceptor.local_endpoint());
  EXPECT_TRUE(hubbatch::io::set_client_peer_name(c.native_handle(), peer_name));
  boost::system::error_code ec;
  c.handshake(asio::ssl::stream_base::client, ec);
  c.next_layer().close();
  server.join();
  return ec;
}

}  // namespace

TEST(tls, generated_ca_verifies_server_for_loopback_names) {
  auto pki = hubbatch::io::generate_local_pki();
  auto ctx = hubbatch::io::make_client_context_from_pem(pki.ca_cert_pem);
  EXPECT_FALSE(handshake_with(pki, ctx, "127.0.0.1"));
  EXPECT_FALSE(handshake_with(pki, ctx, "localhost"));
}

TEST(tls, hostname_mismatch_is_refused) {
  auto pki = hubbatch::io::generate_local_pki();
  auto ctx = hubbatch::io::make_client_context_from_pem(pki.ca_cert_pem);
  EXPECT_TRUE(handshake_with(pki, ctx, "api.hubapi.com"));
}

TEST(tls, unknown_ca_is_refused) {
  auto pki = hubbatch::io::generate_local_pki();
  auto other = hubbatch::io::generate_local_pki();
  auto ctx = hubbatch::io::make_client_context_from_pem(other.ca_cert_pem);
  EXPECT_TRUE(handshake_with(pki, ctx, "127.0.0.1"));
}

TEST(tls, missing_ca_file_names_the_file) {
  try {
    hubbatch::io::make_client_context("/nonexistent/ca.pem");
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/ca.pem"), std::string::npos);
  }
}

// ---------------------------------------------------------------- issue 7

namespace {

// One handshake between a server using `server_ctx` and a client using
// `client_ctx` verifying `peer_name`. Returns the client's error, explained
// by io::explain_handshake_error.
boost::system::error_code handshake_ctx(asio::ssl::context& server_ctx, asio::ssl::context& client_ctx,
                                        const std::string& peer_name = "127.0.0.1") {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::thread server([&] {
    asio::ssl::stream<tcp::socket> s(acceptor.accept(), server_ctx);
    boost::system::error_code ec;
    s.handshake(asio::ssl::stream_base::server, ec);
  });
  asio::ssl::stream<tcp::socket> c(io, client_ctx);
  c.next_layer().connect(acceptor.local_endpoint());
  EXPECT_TRUE(hubbatch::io::set_client_peer_name(c.native_handle(), peer_name));
  boost::system::error_code ec;
  c.handshake(asio::ssl::stream_base::client, ec);
  ec = hubbatch::io::explain_handshake_error(c.native_handle(), ec);
  c.next_layer().close();
  server.join();
  return ec;
}

// A context limited to TLS 1.1 (security level 0, so OpenSSL 3 allows it).
asio::ssl::context tls11_only(asio::ssl::context::method m) {
  asio::ssl::context ctx(m);
  SSL_CTX* h = ctx.native_handle();
  SSL_CTX_set_security_level(h, 0);
  SSL_CTX_set_min_proto_version(h, TLS1_1_VERSION);
  SSL_CTX_set_max_proto_version(h, TLS1_1_VERSION);
  SSL_CTX_set_cipher_list(h, "DEFAULT:@SECLEVEL=0");
  return ctx;
}

}  // namespace

TEST(tls, client_contexts_verify_peers_and_require_tls_1_2) {
  auto pki = hubbatch::io::generate_local_pki();
  const std::string ca = ::testing::TempDir() + std::to_string(::getpid()) + "-tls_test_ca.pem";
  hubbatch::io::write_file_atomic(ca, pki.ca_cert_pem);
  for (auto* ctx_fn : {+[](const std::string&, const std::string& pem) { return hubbatch::io::make_client_context_from_pem(pem); },
                       +[](const std::string& file, const std::string&) { return hubbatch::io::make_client_context(file); },
                       +[](const std::string&, const std::string&) { return hubbatch::io::make_client_context(""); }}) {
    auto ctx = ctx_fn(ca, pki.ca_cert_pem);
    EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx.native_handle()), TLS1_2_VERSION);
    EXPECT_TRUE(SSL_CTX_get_verify_mode(ctx.native_handle()) & SSL_VERIFY_PEER);
    EXPECT_EQ(SSL_CTX_get_verify_callback(ctx.native_handle()), nullptr) << "no callback may override verification";
  }
  std::remove(ca.c_str());
}

TEST(tls, server_context_requires_tls_1_2) {
  auto pki = hubbatch::io::generate_local_pki();
  auto server = hubbatch::io::make_server_context(pki.server_cert_pem, pki.server_key_pem);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(server.native_handle()), TLS1_2_VERSION);
  // A TLS 1.1-only client cannot talk to the sandbox's server context.
  auto old_client = tls11_only(asio::ssl::context::tls_client);
  old_client.set_verify_mode(asio::ssl::verify_none);  // the version alone must make it fail
  EXPECT_TRUE(handshake_ctx(server, old_client));
}

TEST(tls, a_tls_1_1_only_server_is_refused_by_name) {
  auto pki = hubbatch::io::generate_local_pki();
  auto server = tls11_only(asio::ssl::context::tls_server);
  server.use_certificate_chain(asio::buffer(pki.server_cert_pem));
  server.use_private_key(asio::buffer(pki.server_key_pem), asio::ssl::context::pem);
  // Control: the server really speaks TLS 1.1 to a client that allows it.
  auto old_client = tls11_only(asio::ssl::context::tls_client);
  old_client.add_certificate_authority(asio::buffer(pki.ca_cert_pem));
  old_client.set_verify_mode(asio::ssl::verify_peer);
  EXPECT_FALSE(handshake_ctx(server, old_client));

  auto client = hubbatch::io::make_client_context_from_pem(pki.ca_cert_pem);
  auto ec = handshake_ctx(server, client);
  EXPECT_EQ(ec, boost::system::error_code(hubbatch::io::tls_protocol_too_old, hubbatch::io::tls_category()));
  EXPECT_NE(ec.message().find("TLS 1.2"), std::string::npos) << ec.message();
}

TEST(tls, verification_failures_are_explained_by_cause) {
  auto good = hubbatch::io::generate_local_pki();
  auto server_of = [](const hubbatch::io::local_pki& p) {
    return hubbatch::io::make_server_context(p.server_cert_pem, p.server_key_pem);
  };
  struct expectation {
    std::string name;
    hubbatch::io::local_pki pki;
    std::string trust;
    std::string peer;
    long verify_result;
    std::string text;
  };
  hubbatch::test::test_pki_options expired;
  expired.not_before_s = -10L * 86400;
  expired.not_after_s = -86400;
  hubbatch::test::test_pki_options self_signed;
  self_signed.self_signed_server = true;
  hubbatch::test::test_pki_options other_name;
  other_name.server_names = "DNS:api.hubapi.com";
  auto e = hubbatch::test::generate_test_pki(expired);
  auto s = hubbatch::test::generate_test_pki(self_signed);
  auto n = hubbatch::test::generate_test_pki(other_name);
  std::vector<expectation> cases = {
      {"unknown CA", good, hubbatch::io::generate_local_pki().ca_cert_pem, "127.0.0.1",
       X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, "not signed by a trusted CA"},
      {"expired", e, e.ca_cert_pem, "127.0.0.1", X509_V_ERR_CERT_HAS_EXPIRED, "certificate has expired"},
      {"self-signed", s, s.ca_cert_pem, "127.0.0.1", X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, "self-signed"},
      {"ip mismatch", n, n.ca_cert_pem, "127.0.0.1", X509_V_ERR_IP_ADDRESS_MISMATCH, "IP address mismatch"},
      {"host mismatch", n, n.ca_cert_pem, "localhost", X509_V_ERR_HOSTNAME_MISMATCH, "hostname mismatch"},
  };
  for (auto& c : cases) {
    auto server = server_of(c.pki);
    auto client = hubbatch::io::make_client_context_from_pem(c.trust);
    auto ec = handshake_ctx(server, client, c.peer);
    EXPECT_EQ(ec.category(), hubbatch::io::tls_category()) << c.name << ": " << ec.message();
    EXPECT_EQ(ec.value(), c.verify_result) << c.name << ": " << ec.message();
    EXPECT_NE(ec.message().find(c.text), std::string::npos) << c.name << ": " << ec.message();
    EXPECT_NE(ec.message().find("TLS certificate verification failed"), std::string::npos) << ec.message();
  }
}

TEST(tls, other_errors_pass_through_unexplained) {
  boost::system::error_code eof = asio::error::eof;
  EXPECT_EQ(hubbatch::io::explain_handshake_error(nullptr, eof), eof);
  EXPECT_FALSE(hubbatch::io::explain_handshake_error(nullptr, {}));
}

// No code path may turn verification off: the product sources (not tests)
// never name the switches that would.
TEST(tls, no_source_disables_certificate_verification) {
  namespace fs = std::filesystem;
  const std::vector<std::string> forbidden = {"verify_none",         "SSL_VERIFY_NONE", "set_verify_callback",
                                              "SSL_CTX_set_verify(", "X509_V_FLAG_",    "insecure",
                                              "no-verify",           "skip-verify",     "SECLEVEL=0",
                                              "set_security_level"};
  std::size_t scanned = 0;
  for (const char* dir : {"io", "engine", "cli", "codec", "sandbox"}) {
    for (const auto& entry : fs::recursive_directory_iterator(fs::path(HUBBATCH_SOURCE_DIR) / dir)) {
      if (!entry.is_regular_file()) continue;
      auto ext = entry.path().extension();
      if (ext != ".cpp" && ext != ".hpp") continue;
      std::ifstream in(entry.path());
      std::stringstream ss;
      ss << in.rdbuf();
      const std::string text = ss.str();
      ++scanned;
      for (const auto& word : forbidden)
        EXPECT_EQ(text.find(word), std::string::npos) << entry.path() << " contains " << word;
    }
  }
  EXPECT_GT(scanned, 20u);
}
