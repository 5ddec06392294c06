#include "support/https_client.hpp"

#include "io/tls.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <cctype>
#include <optional>
#include <stdexcept>

namespace hubbatch::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}
}  // namespace

std::string http_response::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

bool http_response::has_header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return true;
  return false;
}

struct https_client::impl {
  std::string host;
  std::uint16_t port;
  std::chrono::milliseconds timeout;
  asio::io_context io;
  asio::ssl::context ctx;
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream;
  beast::flat_buffer buffer;
  std::size_t opened = 0;

  impl(std::string h, std::uint16_t p, const std::string& ca, std::chrono::milliseconds t)
      : host(std::move(h)), port(p), timeout(t), ctx(io::make_client_context_from_pem(ca)) {}

  // Runs one async operation to completion on the private io_context; the
  // tcp_stream deadline bounds it.
  template <class Start>
  boost::system::error_code run(Start start) {
    boost::system::error_code result;
    bool done = false;
    start([&](boost::system::error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    io.restart();
    io.run();
    if (!done) result = asio::error::timed_out;
    return result;
  }

  boost::system::error_code connect() {
    if (stream) return {};
    buffer.clear();
    stream.emplace(io, ctx);
    if (!io::set_client_peer_name(stream->native_handle(), host)) return asio::error::invalid_argument;
    tcp::resolver resolver(io);
    boost::system::error_code ec;
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec) return drop(ec);
    auto& tcp_layer = beast::get_lowest_layer(*stream);
    tcp_layer.expires_after(timeout);
    ec = run([&](auto h) { tcp_layer.async_connect(results, [h](boost::system::error_code e, const tcp::endpoint&) mutable { h(e); }); });
    if (ec) return drop(ec);
    tcp_layer.expires_after(timeout);
    ec = run([&](auto h) { stream->async_handshake(asio::ssl::stream_base::client, h); });
    if (ec) return drop(ec);
    ++opened;
    return {};
  }

  boost::system::error_code drop(boost::system::error_code ec) {
    if (stream) {
      boost::system::error_code ignored;
      beast::get_lowest_layer(*stream).socket().close(ignored);
      stream.reset();
    }
    return ec;
  }

  http_result read_response() {
    http_result r;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 30);
    parser.header_limit(1 << 16);
    auto& tcp_layer = beast::get_lowest_layer(*stream);
    tcp_layer.expires_after(timeout);
    r.error = run([&](auto h) { http::async_read(*stream, buffer, parser, h); });
    auto& msg = parser.get();
    if (parser.is_header_done()) {
      r.response.status = static_cast<int>(msg.result_int());
      for (const auto& f : msg) r.response.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    r.response.body = std::move(msg.body());
    if (r.error || !msg.keep_alive()) drop(r.error);
    return r;
  }

  http_result send_bytes(std::string_view bytes) {
    http_result r;
    if ((r.error = connect())) return r;
    auto& tcp_layer = beast::get_lowest_layer(*stream);
    tcp_layer.expires_after(timeout);
    r.error = run([&](auto h) { asio::async_write(*stream, asio::buffer(bytes.data(), bytes.size()), h); });
    if (r.error) {
      drop(r.error);
      return r;
    }
    return read_response();
  }
};

https_client::https_client(std::string host, std::uint16_t port, std::string ca_pem, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>(std::move(host), port, ca_pem, timeout)) {}

https_client::~https_client() = default;

http_result https_client::send(std::string_view method, std::string_view target, std::string_view body,
                               const header_list& headers) {
  std::string req;
  req.reserve(256 + body.size());
  req.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ").append(impl_->host);
  req.append(":").append(std::to_string(impl_->port)).append("\r\n");
  bool has_type = false;
  for (const auto& [k, v] : headers) {
    if (iequals(k, "content-type")) has_type = true;
    req.append(k).append(": ").append(v).append("\r\n");
  }
  if (!body.empty() && !has_type) req.append("Content-Type: application/json\r\n");
  if (!body.empty() || method == "POST" || method == "PUT")
    req.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  req.append("\r\n").append(body);
  return impl_->send_bytes(req);
}

http_result https_client::send_raw(std::string_view bytes) { return impl_->send_bytes(bytes); }

http_response https_client::post(std::string_view target, std::string_view body, std::string_view token) {
  header_list h;
  if (!token.empty()) h.emplace_back("Authorization", "Bearer " + std::string(token));
  auto r = send("POST", target, body, h);
  if (r.error) throw std::runtime_error("POST " + std::string(target) + ": " + r.error.message());
  return std::move(r.response);
}

http_response https_client::get(std::string_view target) {
  auto r = send("GET", target);
  if (r.error) throw std::runtime_error("GET " + std::string(target) + ": " + r.error.message());
  return std::move(r.response);
}

bool https_client::connected() const noexcept { return impl_->stream.has_value(); }
void https_client::close() { impl_->drop({}); }
std::size_t https_client::connections_opened() const noexcept { return impl_->opened; }

}  // namespace hubbatch::test
