#include "io/tls.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>

#include <memory>
#include <stdexcept>

namespace hubbatch::io {
namespace {

template <typename T, void (*Free)(T*)>
struct deleter {
  void operator()(T* p) const noexcept { Free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, deleter<X509, X509_free>>;
using bio_ptr = std::unique_ptr<BIO, deleter<BIO, BIO_free_all>>;

[[noreturn]] void fail(const char* what) {
  char buf[256] = {};
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  throw std::runtime_error(std::string("TLS: ") + what + ": " + buf);
}

pkey_ptr make_key() {
  pkey_ptr key(EVP_EC_gen("P-256"));
  if (!key) fail("key generation failed");
  return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) fail("bad certificate extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

x509_ptr make_cert(EVP_PKEY* subject_key, const char* cn, X509* issuer, EVP_PKEY* issuer_key,
                   long serial, const test_pki_options& opt, bool leaf) {
  x509_ptr cert(X509_new());
  if (!cert) fail("X509_new");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), opt.not_before_s);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), opt.not_after_s);
  X509_set_pubkey(cert.get(), subject_key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("hubbatch sandbox"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (!issuer && !leaf) {
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
    add_ext(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(cert.get(), signer, NID_subject_key_identifier, "hash");
  } else {
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
    add_ext(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    add_ext(cert.get(), signer, NID_subject_alt_name, opt.server_names.c_str());
    if (issuer) add_ext(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  }
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) fail("signing failed");
  return cert;
}

std::string to_pem(X509* cert) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string to_pem(EVP_PKEY* key) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

void harden(boost::asio::ssl::context& ctx) {
  ctx.set_options(boost::asio::ssl::context::default_workarounds | boost::asio::ssl::context::no_sslv2 |
                  boost::asio::ssl::context::no_sslv3 | boost::asio::ssl::context::no_tlsv1 |
                  boost::asio::ssl::context::no_tlsv1_1 | boost::asio::ssl::context::no_compression);
  if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1) fail("min protocol");
}

}  // namespace

test_pki generate_test_pki(int valid_days) {
  test_pki_options opt;
  opt.not_after_s = 60L * 60 * 24 * valid_days;
  return generate_test_pki(opt);
}

test_pki generate_test_pki(const test_pki_options& opt) {
  pkey_ptr ca_key = make_key();
  x509_ptr ca = make_cert(ca_key.get(), "hubbatch sandbox test CA", nullptr, ca_key.get(), 1, opt, false);
  pkey_ptr server_key = make_key();
  x509_ptr server = opt.self_signed_server
                        ? make_cert(server_key.get(), "localhost", nullptr, server_key.get(), 2, opt, true)
                        : make_cert(server_key.get(), "localhost", ca.get(), ca_key.get(), 2, opt, true);
  return {to_pem(ca.get()), to_pem(server.get()), to_pem(server_key.get())};
}

namespace {

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
