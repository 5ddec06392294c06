// A throwaway certificate authority for serving TLS on this machine: the
// sandbox (`hubbatch sandbox`, `archive --sandbox`) generates one at start
// unless given a certificate, and its clients trust exactly that CA, so
// the sandbox is verified like HubSpot is (there is no switch that turns
// verification off; see io/tls.hpp).
//
// Product code builds only certificates a client accepts. The certificates
// tests need a client to refuse (expired, for another host, self-signed) are
// built from issue_certificate() in tests/support/test_pki.hpp.
#pragma once

#include <string>

namespace hubbatch::io {

// PEM texts of a CA and a server certificate it signed.
struct local_pki {
  std::string ca_cert_pem;
  std::string server_cert_pem;
  std::string server_key_pem;
};

// A fresh P-256 CA and a server certificate signed by it for `127.0.0.1`,
// `::1` and `localhost` (what the sandbox serves by default), both valid from
// one hour ago (clock skew) for `valid_days`. Throws std::runtime_error on
// OpenSSL failure.
local_pki generate_local_pki(int valid_days = 30);

// One certificate to issue.
struct certificate_spec {
  std::string common_name;
  long not_before_s = -3600;           // seconds from now
  long not_after_s = 30L * 24 * 3600;  // seconds from now
  // A CA (basicConstraints CA:TRUE, keyCertSign) or else a TLS server
  // certificate (serverAuth) for `server_names` (a subjectAltName value).
  bool ca = false;
  std::string server_names = "DNS:localhost,IP:127.0.0.1,IP:::1";
  long serial = 1;
};

// A certificate and its private key, PEM.
struct issued_certificate {
  std::string cert_pem;
  std::string key_pem;
};

// Issues `spec` with a fresh P-256 key, signed by `issuer` (a CA issued
// here), or self-signed when `issuer` is null. Throws std::runtime_error on
// OpenSSL failure or an unreadable issuer.
issued_certificate issue_certificate(const certificate_spec& spec, const issued_certificate* issuer = nullptr);

}  // namespace hubbatch::io
