// Certificates a client must refuse (expired, for another host, a
// self-signed server), for the TLS tests. Test code only: the product
// generates nothing but the valid local CA of io/local_ca.hpp.
//
//   hubbatch::test::test_pki_options o;
//   o.not_after_s = -86400;                       // expired yesterday
//   auto pki = hubbatch::test::generate_test_pki(o);
#pragma once

#include "io/local_ca.hpp"

#include <string>

namespace hubbatch::test {

struct test_pki_options {
  long not_before_s = -3600;               // seconds from now; the leaf and the CA
  long not_after_s = 30L * 24 * 3600;      // seconds from now (negative: already expired)
  std::string server_names = "DNS:localhost,IP:127.0.0.1,IP:::1";  // subjectAltName of the leaf
  bool self_signed_server = false;         // leaf signs itself (ca_cert_pem is still a CA that did not sign it)
};

// A CA and a server certificate as `options` say; with the defaults the same
// as io::generate_local_pki().
io::local_pki generate_test_pki(const test_pki_options& options);

}  // namespace hubbatch::test
