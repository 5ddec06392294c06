#include "io/proxy_tunnel.hpp"

#include "io/secret.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace hubbatch::io {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

asio::awaitable<boost::system::error_code> connect_tunnel(beast::tcp_stream& stream, const tunnel_request& to,
                                                          std::string& refusal) {
  constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
  std::string authority =
      (to.host.find(':') != std::string_view::npos ? "[" + std::string(to.host) + "]" : std::string(to.host)) + ":" +
      std::string(to.port);
  http::request<http::empty_body> req{http::verb::connect, authority, 11};
  req.set(http::field::host, authority);
  req.set(http::field::user_agent, std::string("hubbatch/") + HUBBATCH_VERSION);
  if (!to.basic_credentials.empty()) {
    std::string value = "Basic " + std::string(to.basic_credentials);
    req.set(http::field::proxy_authorization, value);
    wipe(value);
  }
  struct wipe_credentials {  // the header's copy, however this returns
    http::request<http::empty_body>& r;
    ~wipe_credentials() {
      if (auto it = r.find(http::field::proxy_authorization); it != r.end())
        wipe(const_cast<char*>(it->value().data()), it->value().size());
    }
  } wipe_req{req};
  auto [wec, wn] = co_await http::async_write(stream, req, use_tuple);
  if (wec) co_return wec;
  http::response_parser<http::empty_body> res;
  res.skip(true);  // a CONNECT answer has no body
  beast::flat_buffer buf;
  auto [rec, rn] = co_await http::async_read_header(stream, buf, res, use_tuple);
  if (rec) co_return rec;
  if (res.get().result_int() / 100 != 2) {
    const unsigned status = res.get().result_int();
    refusal = "HTTP " + std::to_string(status);
    if (status == 407)
      refusal += to.basic_credentials.empty() ? " (the proxy wants credentials: http://USER:PASSWORD@HOST:PORT)"
                                              : " (the proxy refused the credentials)";
    co_return asio::error::make_error_code(asio::error::connection_refused);
  }
  if (buf.size() != 0) co_return asio::error::make_error_code(asio::error::invalid_argument);  // spoke first
  co_return boost::system::error_code{};
}

}  // namespace hubbatch::io
