#include "support/test_pki.hpp"

namespace hubbatch::test {

io::local_pki generate_test_pki(const test_pki_options& options) {
  io::certificate_spec ca_spec;
  ca_spec.common_name = "hubbatch sandbox test CA";
  ca_spec.not_before_s = options.not_before_s;
  ca_spec.not_after_s = options.not_after_s;
  ca_spec.ca = true;
  io::certificate_spec server_spec = ca_spec;
  server_spec.common_name = "localhost";
  server_spec.ca = false;
  server_spec.server_names = options.server_names;
  server_spec.serial = 2;
  auto ca = io::issue_certificate(ca_spec);
  auto server = io::issue_certificate(server_spec, options.self_signed_server ? nullptr : &ca);
  return {ca.cert_pem, server.cert_pem, server.key_pem};
}

}  // namespace hubbatch::test
