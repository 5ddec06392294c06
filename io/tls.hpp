// TLS setup shared by the client (engine/) and the sandbox server.
//
// Contract: there is no switch that disables certificate verification. A
// client trusts the system store, or exactly the CA file it is given (the
// sandbox writes its CA with --write-ca). TLS 1.2 is the minimum both ways.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <string>
#include <string_view>

typedef struct ssl_st SSL;

namespace hubbatch::io {

// Names the cause of a failed client handshake on `ssl`. When the peer's
// certificate failed verification (unknown CA, self-signed, expired, host or
// IP mismatch, ...) or the server offers no TLS 1.2+, returns an error in
// tls_category() whose message says so ("TLS certificate verification
// failed: certificate has expired"); otherwise returns `ec` unchanged.
boost::system::error_code explain_handshake_error(SSL* ssl, const boost::system::error_code& ec);

// The category of explain_handshake_error()'s codes: a positive value is an
// X509_V_ERR_* verify result; tls_protocol_too_old is the one other value.
const boost::system::error_category& tls_category() noexcept;
inline constexpr int tls_protocol_too_old = -1;

// Client context: TLS >= 1.2, peer verification on, trusting `ca_file` when
// non-empty (only that file) or else the system's default store.
// Throws std::runtime_error naming the file when it cannot be loaded.
boost::asio::ssl::context make_client_context(const std::string& ca_file);

// Same, trusting a CA given as PEM text (tests, the embedded sandbox).
boost::asio::ssl::context make_client_context_from_pem(std::string_view ca_pem);

// Server context from PEM texts. Throws std::runtime_error on bad input.
boost::asio::ssl::context make_server_context(std::string_view cert_pem, std::string_view key_pem);

// Sets SNI (for names) and the name or IP address the peer certificate must
// carry. Call on each new client stream before the handshake. Returns false
// when OpenSSL refuses the host.
bool set_client_peer_name(SSL* ssl, const std::string& host);

}  // namespace hubbatch::io
