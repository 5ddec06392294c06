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

// PEM texts of a throwaway CA and a server certificate it signed, valid for
// `127.0.0.1`, `::1` and `localhost` (what the sandbox serves by default).
struct test_pki {
  std::string ca_cert_pem;
  std::string server_cert_pem;
  std::string server_key_pem;
};

// Generates a fresh P-256 CA and a server certificate signed by it, valid
// from one hour ago for `valid_days`. Throws std::runtime_error on OpenSSL failure.
test_pki generate_test_pki(int valid_days = 30);

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

// Reads a whole file; throws std::runtime_error naming the path on failure.
std::string read_file(const std::string& path);

// Writes `text` to `path` (mode 0644) atomically via a temporary and rename.
void write_file_atomic(const std::string& path, std::string_view text);

}  // namespace hubbatch::io
