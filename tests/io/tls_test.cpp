#include "io/tls.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <gtest/gtest.h>

#include <thread>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Runs one blocking TLS handshake between a server thread and a client that
// verifies `peer_name`; returns the client's handshake error.
boost::system::error_code handshake_with(const hubbatch::io::test_pki& pki, asio::ssl::context& client_ctx,
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
  auto pki = hubbatch::io::generate_test_pki();
  auto ctx = hubbatch::io::make_client_context_from_pem(pki.ca_cert_pem);
  EXPECT_FALSE(handshake_with(pki, ctx, "127.0.0.1"));
  EXPECT_FALSE(handshake_with(pki, ctx, "localhost"));
}

TEST(tls, hostname_mismatch_is_refused) {
  auto pki = hubbatch::io::generate_test_pki();
  auto ctx = hubbatch::io::make_client_context_from_pem(pki.ca_cert_pem);
  EXPECT_TRUE(handshake_with(pki, ctx, "api.hubapi.com"));
}

TEST(tls, unknown_ca_is_refused) {
  auto pki = hubbatch::io::generate_test_pki();
  auto other = hubbatch::io::generate_test_pki();
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
