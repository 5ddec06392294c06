#include "engine/labels_fetch.hpp"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <optional>
#include <thread>

#include "codec/response.hpp"
#include "io/proxy_tunnel.hpp"
#include "io/secret.hpp"
#include "io/tls.hpp"

namespace hubbatch::engine {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct one_get {
  const archive_config& cfg;
  const endpoint_url& url;
  const endpoint_url* proxy;
  asio::ssl::context* tls;
  std::string target;
  const std::string& token;
  int status = 0;
  std::string body{};
  std::string error{};

  // Resolve, connect (through the proxy), TLS, one request, one response:
  // each step under the job's own deadlines.
  asio::awaitable<void> run() {
    auto ex = co_await asio::this_coro::executor;
    tcp::resolver resolver(ex);
    const endpoint_url& hop = proxy ? *proxy : url;
    auto [rec, results] = co_await resolver.async_resolve(hop.host, hop.port, use_tuple);
    if (rec) co_return fail("resolve " + hop.host, rec);
    beast::tcp_stream tcp_stream(ex);
    tcp_stream.expires_after(cfg.connect_timeout);
    auto [cec, ep] = co_await tcp_stream.async_connect(results, use_tuple);
    if (cec) co_return fail("connect to " + hop.host + ":" + hop.port, cec);
    if (proxy) {
      std::string refusal;
      auto ec = co_await io::connect_tunnel(tcp_stream, {url.host, url.port, proxy->basic_credentials}, refusal);
      if (ec) co_return fail("proxy CONNECT" + (refusal.empty() ? "" : " (" + refusal + ")"), ec);
    }
    http::request<http::string_body> req{http::verb::get, target, 11};
    const bool default_port = url.port == (url.tls ? "443" : "80");
    std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
    req.set(http::field::host, default_port ? host : host + ":" + url.port);
    std::string auth = "Bearer " + token;
    io::wipe_on_exit wipe_auth(auth);
    req.set(http::field::authorization, auth);
    req.set(http::field::accept, "application/json");
    req.set(http::field::user_agent, std::string("hubbatch/") + HUBBATCH_VERSION);
    req.set(http::field::connection, "close");
    http::response_parser<http::string_body> parser;
    parser.body_limit(cfg.max_response_bytes);
    beast::flat_buffer buffer;
    if (url.tls) {
      beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp_stream), *tls);
      if (!io::set_client_peer_name(stream.native_handle(), url.host)) co_return fail("TLS peer name", {});
      beast::get_lowest_layer(stream).expires_after(cfg.handshake_timeout);
      auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, use_tuple);
      if (hec) co_return fail("TLS handshake", io::explain_handshake_error(stream.native_handle(), hec));
      beast::get_lowest_layer(stream).expires_after(cfg.request_timeout);
      auto [wec, wn] = co_await http::async_write(stream, req, use_tuple);
      if (wec) co_return fail("write", wec);
      auto [pec, pn] = co_await http::async_read(stream, buffer, parser, use_tuple);
      if (pec) co_return fail("read", pec);
    } else {
      tcp_stream.expires_after(cfg.request_timeout);
      auto [wec, wn] = co_await http::async_write(tcp_stream, req, use_tuple);
      if (wec) co_return fail("write", wec);
      auto [pec, pn] = co_await http::async_read(tcp_stream, buffer, parser, use_tuple);
      if (pec) co_return fail("read", pec);
    }
    status = static_cast<int>(parser.get().result_int());
    body = std::move(parser.get().body());
  }

  void fail(const std::string& what, const boost::system::error_code& ec) {
    error = ec ? what + ": " + ec.message() : what + " failed";
  }
};

bool retryable(int status) { return status == 429 || status >= 500 || status == 408 || status == 423; }

}  // namespace

labels_answer fetch_labels(const archive_config& cfg, const std::string& token, const std::string& ca_pem) {
  labels_answer out;
  std::string url_error;
  auto url = parse_base_url(cfg.base_url, url_error);
  if (!url) {
    out.error = url_error;
    return out;
  }
  std::optional<endpoint_url> proxy;
  if (!cfg.proxy.empty() && !(proxy = parse_proxy_url(cfg.proxy, url_error))) {
    out.error = url_error;
    return out;
  }
  std::optional<asio::ssl::context> tls;
  if (url->tls)
    tls.emplace(ca_pem.empty() ? io::make_client_context(cfg.ca_file) : io::make_client_context_from_pem(ca_pem));
  const std::string target = associations_path(cfg.api_version, cfg.from_type, cfg.to_type) + "labels";
  constexpr int attempts = 4;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    one_get get{cfg, *url, proxy ? &*proxy : nullptr, tls ? &*tls : nullptr, target, token};
    asio::io_context ioc(1);
    asio::co_spawn(ioc, get.run(), asio::detached);
    ioc.run();
    out.status = get.status;
    if (get.error.empty() && get.status / 100 == 2) {
      std::string why;
      if (auto labels = codec::decode_labels(get.body, why)) {
        out.labels = std::move(*labels);
        out.error.clear();
        return out;
      }
      out.error = "GET " + target + ": unexpected answer (" + why + ")";
      return out;
    }
    if (get.error.empty()) {
      codec::response_decoder decoder;
      codec::decoded_response decoded;
      decoder.decode(get.body, decoded);
      codec::redact(decoded, token);
      out.error =
          fmt::format("GET {}: HTTP {}{}{}", target, get.status, decoded.message.empty() ? "" : ": ", decoded.message);
      if (!retryable(get.status)) return out;
    } else {
      out.error = "GET " + target + ": " + get.error;
    }
    if (attempt < attempts) std::this_thread::sleep_for(std::chrono::seconds(attempt));
  }
  return out;
}

}  // namespace hubbatch::engine
