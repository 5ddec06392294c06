#include "io/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>

#include <stdexcept>

namespace hubbatch::io {
namespace {

[[noreturn]] void fail(const char* what) {
  char buf[256] = {};
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  throw std::runtime_error(std::string("TLS: ") + what + ": " + buf);
}

void harden(boost::asio::ssl::context& ctx) {
  ctx.set_options(boost::asio::ssl::context::default_workarounds | boost::asio::ssl::context::no_sslv2 |
                  boost::asio::ssl::context::no_sslv3 | boost::asio::ssl::context::no_tlsv1 |
                  boost::asio::ssl::context::no_tlsv1_1 | boost::asio::ssl::context::no_compression);
  if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1) fail("min protocol");
}

class tls_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "hubbatch.tls"; }
  std::string message(int v) const override {
    if (v == tls_protocol_too_old)
      return "TLS handshake failed: the server does not offer TLS 1.2 or later (hubbatch's minimum)";
    std::string m = "TLS certificate verification failed: ";
    m += X509_verify_cert_error_string(v);
    switch (v) {
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
      case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        m += " (the server's certificate is not signed by a trusted CA; --ca-file trusts a private CA)";
        break;
      case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        m += " (the server presented a self-signed certificate)";
        break;
      case X509_V_ERR_CERT_HAS_EXPIRED:
        m += " (the server's certificate is past its notAfter date)";
        break;
      case X509_V_ERR_CERT_NOT_YET_VALID:
        m += " (the server's certificate is not valid yet; check the clock)";
        break;
      case X509_V_ERR_HOSTNAME_MISMATCH:
      case X509_V_ERR_IP_ADDRESS_MISMATCH:
        m += " (the certificate is not for the host in --base-url)";
        break;
      default:
        break;
    }
    return m;
  }
};

}  // namespace

const boost::system::error_category& tls_category() noexcept {
  static const tls_category_impl category;
  return category;
}

boost::system::error_code explain_handshake_error(SSL* ssl, const boost::system::error_code& ec) {
  if (!ec || !ssl || ec.category() != boost::asio::error::get_ssl_category()) return ec;
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) return {static_cast<int>(verify), tls_category()};
  const int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
  if (reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION || reason == SSL_R_UNSUPPORTED_PROTOCOL)
    return {tls_protocol_too_old, tls_category()};
  return ec;
}

boost::asio::ssl::context make_client_context(const std::string& ca_file) {
  boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_client);
  harden(ctx);
  ctx.set_verify_mode(boost::asio::ssl::verify_peer);
  boost::system::error_code ec;
  if (ca_file.empty()) {
    ctx.set_default_verify_paths(ec);
    if (ec) throw std::runtime_error("TLS: cannot load the system CA store: " + ec.message());
  } else {
    ctx.load_verify_file(ca_file, ec);
    if (ec) throw std::runtime_error("TLS: cannot load CA file '" + ca_file + "': " + ec.message());
  }
  return ctx;
}

boost::asio::ssl::context make_client_context_from_pem(std::string_view ca_pem) {
  boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_client);
  harden(ctx);
  ctx.set_verify_mode(boost::asio::ssl::verify_peer);
  boost::system::error_code ec;
  ctx.add_certificate_authority(boost::asio::buffer(ca_pem.data(), ca_pem.size()), ec);
  if (ec) throw std::runtime_error("TLS: bad CA certificate: " + ec.message());
  return ctx;
}

boost::asio::ssl::context make_server_context(std::string_view cert_pem, std::string_view key_pem) {
  boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_server);
  harden(ctx);
  boost::system::error_code ec;
  ctx.use_certificate_chain(boost::asio::buffer(cert_pem.data(), cert_pem.size()), ec);
  if (ec) throw std::runtime_error("TLS: bad server certificate: " + ec.message());
  ctx.use_private_key(boost::asio::buffer(key_pem.data(), key_pem.size()),
                      boost::asio::ssl::context::pem, ec);
  if (ec) throw std::runtime_error("TLS: bad server key: " + ec.message());
  return ctx;
}

bool set_client_peer_name(SSL* ssl, const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  if (!ec) {  // an IP literal: no SNI (RFC 6066), match an IP SAN
    return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
  }
  if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) return false;
  return SSL_set1_host(ssl, host.c_str()) == 1;
}

}  // namespace hubbatch::io
