// libFuzzer target: the small text parsers that turn flags into config:
// sandbox::parse_rate (and its to_string round trip), parse_missing_mode,
// resolve_object_type (sandbox), engine::valid_object_type,
// engine::parse_base_url, engine::parse_proxy_url (credentials included)
// and engine::archive_target.
// Oracles: a rate that parses prints back to text that parses to the same
// rate; an object type the client accepts never puts '/', '?', '#', '%',
// '.', spaces or control bytes into a request target; a base URL that
// parses has a numeric port in 1..65535 and never allows http:// to a
// non-loopback host; a proxy URL's error never shows its password, and its
// credentials are base64 only.
#include "engine/config.hpp"
#include "sandbox/config.hpp"
#include "sandbox/object_types.hpp"

#include <arpa/inet.h>

#include <cstddef>
#include <cstring>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

// Independent of boost::asio: 127.0.0.0/8, ::1 or "localhost".
bool loopback(const std::string& host) {
  if (host == "localhost") return true;
  unsigned char a[16];
  if (inet_pton(AF_INET, host.c_str(), a) == 1) return a[0] == 127;
  if (inet_pton(AF_INET6, host.c_str(), a) == 1) {
    static const unsigned char one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return std::memcmp(a, one, 16) == 0;
  }
  return false;
}

// Whatever sits before the last '@' of a URL is never echoed: messages show
// "***@" instead. So once that marker and the usage hint "USER:PASSWORD@"
// are taken out, no '@' is left in an error.
bool shows_no_credentials(std::string e) {
  for (const std::string_view fixed : {"***@", "USER:PASSWORD@"})
    for (std::size_t p; (p = e.find(fixed)) != std::string::npos;) e.erase(p, fixed.size());
  return e.find('@') == std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hubbatch;
  const std::string text(reinterpret_cast<const char*>(data), size);

  if (auto r = sandbox::parse_rate(text)) {
    auto again = sandbox::parse_rate(sandbox::to_string(*r));
    if (r->max != 0 && (!again || again->max != r->max || again->window != r->window)) std::abort();
    if (r->max != 0 && r->window.count() <= 0) std::abort();
  }
  if (auto m = sandbox::parse_missing_mode(text)) {
    if (sandbox::parse_missing_mode(sandbox::to_string(*m)) != m) std::abort();
  }
  if (auto t = sandbox::resolve_object_type(text)) {
    if (t->key.empty()) std::abort();
    auto again = sandbox::resolve_object_type(t->key);  // the canonical key resolves to itself
    if (!again || again->key != t->key) std::abort();
  }
  if (engine::valid_object_type(text)) {
    for (char c : text) {
      auto u = static_cast<unsigned char>(c);
      if (u <= 0x20 || u >= 0x7f || c == '/' || c == '?' || c == '#' || c == '%' || c == '.' || c == '\\')
        std::abort();
    }
    std::string target = engine::archive_target("v4", text, "companies");
    if (target.find("..") != std::string::npos) std::abort();
  }
  std::string error;
  if (auto url = engine::parse_base_url(text, error)) {
    unsigned long port = std::stoul(url->port);
    if (port == 0 || port > 65535 || url->host.empty()) std::abort();
    if (url->host.find_first_of("/?#@ \r\n") != std::string::npos) std::abort();
    if (!url->tls && !loopback(url->host)) std::abort();
  } else if (error.empty() || !shows_no_credentials(error)) {
    std::abort();
  }
  if (auto proxy = engine::parse_proxy_url(text, error)) {
    if (proxy->tls || proxy->host.empty()) std::abort();
    if (proxy->basic_credentials.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
        std::string::npos)
      std::abort();
  } else if (!shows_no_credentials(error)) {
    std::abort();
  }
  return 0;
}
