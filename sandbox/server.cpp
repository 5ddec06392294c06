#include "sandbox/server.hpp"

#include "io/text.hpp"

#include "io/files.hpp"
#include "io/local_ca.hpp"
#include "io/tls.hpp"
#include "sandbox/handler.hpp"
#include "sandbox/object_types.hpp"
#include "sandbox/store.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <cstdio>
#include <future>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace hubbatch::sandbox {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Everything a running server shares between its coroutines. Touched only
// from the io thread once serving starts.
struct server_core {
  explicit server_core(config c, clock_source clk = {})
      : cfg(std::move(c)), clock(std::move(clk)), ssl_ctx(asio::ssl::context::tls_server) {
    if (auto err = validate_config(cfg); !err.empty()) throw std::invalid_argument(err);
    if (cfg.cert_file.empty()) {
      auto pki = io::generate_local_pki();
      ca_pem = pki.ca_cert_pem;
      ssl_ctx = io::make_server_context(pki.server_cert_pem, pki.server_key_pem);
    } else {
      ca_pem = io::read_file(cfg.cert_file);
      ssl_ctx = io::make_server_context(ca_pem, io::read_file(cfg.key_file));
    }
    if (!cfg.write_ca.empty()) io::write_file_atomic(cfg.write_ca, ca_pem);
    load_seeds(cfg, store);
    handler = std::make_unique<request_handler>(cfg, store, now());
  }

  clock_reading now() const { return clock ? clock() : clock_reading::now(); }

  config cfg;
  clock_source clock;  // empty: the real clocks
  // Open connections per peer address (max_connections_per_client). Only
  // the io thread touches it.
  std::unordered_map<std::string, std::uint32_t> open_by_client;
  association_store store;
  std::string ca_pem;
  asio::ssl::context ssl_ctx;
  std::unique_ptr<request_handler> handler;
};

bool is_loopback(const tcp::endpoint& ep) {
  auto a = ep.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return a.is_loopback();
}

using io::iequals;

// Whether an Accept-Encoding value lists gzip (without q=0).
bool accepts_gzip(std::string_view v) {
  while (!v.empty()) {
    auto comma = v.find(',');
    auto item = v.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    auto semi = item.find(';');
    auto name = item.substr(0, semi);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (iequals(name, "gzip") || name == "*") {
      auto params = semi == std::string_view::npos ? std::string_view{} : item.substr(semi + 1);
      return params.find("q=0") == std::string_view::npos || params.find("q=0.") != std::string_view::npos;
    }
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return false;
}

// Whether a request head has more than `max` fields. The byte limit alone
// would let 16 KiB of "a:\r\n" lines become thousands of fields.
template <class Fields>
bool too_many_fields(const Fields& fields, std::uint32_t max) {
  std::uint32_t n = 0;
  for (auto it = fields.begin(); it != fields.end(); ++it)
    if (++n > max) return true;
  return false;
}

sandbox_errc classify_parse_error(const boost::system::error_code& ec) {
  if (ec == http::error::body_limit) return sandbox_errc::body_too_large;
  if (ec == http::error::header_limit) return sandbox_errc::header_too_large;
  return sandbox_errc::bad_http;
}

// Whether a read failure is the peer's fault in the HTTP sense (answer it)
// rather than a closed, reset or timed-out connection (just drop it).
bool is_http_error(const boost::system::error_code& ec) {
  static const auto& http_category = boost::system::error_code(http::error::body_limit).category();
  return ec.category() == http_category && ec != http::error::end_of_stream && ec != http::error::partial_message;
}

// One connection: TLS handshake, then requests until close, error or idle
// timeout. Buffers, parser scratch and the response string live here and are
// reused for every request.
asio::awaitable<void> session(server_core& core, tcp::socket socket) {
  const config& cfg = core.cfg;
  request_handler& handler = *core.handler;
  boost::system::error_code ep_ec;
  const bool loopback = is_loopback(socket.remote_endpoint(ep_ec));
  handler.on_connection();

  beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), core.ssl_ctx);
  auto& tcp_layer = beast::get_lowest_layer(stream);
  tcp_layer.expires_after(cfg.handshake_timeout);
  if (auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple); ec) {
    handler.on_tls_failure();
    co_return;
  }

  beast::flat_buffer buffer;
  session_scratch scratch;
  std::string out;
  std::string body;  // request body storage, moved in and out of each parser to keep its capacity
  asio::steady_timer delay(co_await asio::this_coro::executor);
  static constexpr std::string_view continue_100 = "HTTP/1.1 100 Continue\r\n\r\n";

  for (;;) {
    body.clear();
    http::request_parser<http::string_body> parser(std::piecewise_construct, std::make_tuple(std::move(body)));
    parser.header_limit(cfg.max_header_bytes);
    parser.body_limit(cfg.max_body_bytes);

    tcp_layer.expires_after(cfg.idle_timeout);
    auto [rec, rn] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
    if (!rec && too_many_fields(parser.get(), cfg.max_header_count)) rec = http::error::header_limit;
    if (!rec && parser.get()[http::field::expect].size() && iequals(parser.get()[http::field::expect], "100-continue") &&
        !parser.is_done()) {
      tcp_layer.expires_after(cfg.io_timeout);
      auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(continue_100), use_tuple);
      if (wec) co_return;
    }
    if (!rec && !parser.is_done()) {
      tcp_layer.expires_after(cfg.io_timeout);
      std::tie(rec, rn) = co_await http::async_read(stream, buffer, parser, use_tuple);
    }
    response_plan plan;
    if (rec) {
      if (!is_http_error(rec)) break;  // closed, reset, timed out, TLS truncation: nothing to answer
      plan = handler.protocol_error(classify_parse_error(rec), core.now(), out);
    } else {
      auto& req = parser.get();
      request_in in;
      in.method = req.method_string();
      in.target = req.target();
      in.authorization = req[http::field::authorization];
      in.body = &req.body();
      in.keep_alive = req.keep_alive();
      in.accepts_gzip = accepts_gzip(req[http::field::accept_encoding]);
      in.loopback = loopback;
      in.now = core.now();
      plan = handler.handle(in, scratch, out);
      body = std::move(req.body());
    }

    if (plan.reset) {
      // A real reset (RST), not an orderly close: what a crashed proxy does.
      auto& sock = tcp_layer.socket();
      boost::system::error_code ignored;
      sock.set_option(asio::socket_base::linger(true, 0), ignored);
      sock.close(ignored);
      co_return;
    }
    if (plan.delay.count() > 0) {
      delay.expires_after(plan.delay);
      if (auto [dec] = co_await delay.async_wait(use_tuple); dec) co_return;
    }
    tcp_layer.expires_after(cfg.io_timeout);
    if (auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(out), use_tuple); wec) co_return;
    if (plan.close_after) break;
  }

  // Orderly TLS close; a peer that vanished costs at most this deadline.
  tcp_layer.expires_after(std::chrono::seconds(2));
  co_await stream.async_shutdown(use_tuple);
  boost::system::error_code ignored;
  tcp_layer.socket().shutdown(tcp::socket::shutdown_both, ignored);
  tcp_layer.socket().close(ignored);
}

asio::awaitable<void> accept_loop(server_core& core, tcp::acceptor acceptor) {
  asio::steady_timer backoff(acceptor.get_executor());
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors and the like: pause instead of spinning.
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(use_tuple);
      continue;
    }
    boost::system::error_code ignored;
    std::string client = socket.remote_endpoint(ignored).address().to_string();
    auto& open = core.open_by_client[client];
    if (core.cfg.max_connections_per_client != 0 && open >= core.cfg.max_connections_per_client) {
      // Closed before the handshake: a client cannot make the sandbox hold
      // more than the cap of TLS states and buffers for it.
      core.handler->on_connection_refused();
      socket.close(ignored);
      continue;
    }
    ++open;
    socket.set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(acceptor.get_executor(), session(core, std::move(socket)), [&core, client](std::exception_ptr e) {
      auto it = core.open_by_client.find(client);
      if (it != core.open_by_client.end() && --it->second == 0) core.open_by_client.erase(it);
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "hubbatch sandbox: session failed: %s\n", ex.what());
      }
    });
  }
}

tcp::acceptor bind_acceptor(asio::io_context& io, const config& cfg) {
  tcp::resolver resolver(io);
  boost::system::error_code ec;
  auto results = resolver.resolve(cfg.listen_host, std::to_string(cfg.listen_port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty())
    throw std::runtime_error("cannot resolve listen host '" + cfg.listen_host + "': " + ec.message());
  tcp::endpoint ep = results.begin()->endpoint();
  tcp::acceptor acceptor(io);
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + cfg.listen_host + ":" + std::to_string(cfg.listen_port) + ": " +
                             ec.message());
  return acceptor;
}

std::string url_for(const std::string& host, std::uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return "https://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

void report_exception(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "hubbatch sandbox: %s\n", ex.what());
  }
}

}  // namespace

// ---------------------------------------------------------------------------

struct background_sandbox::impl {
  impl(config cfg, clock_source clock) : core(std::move(cfg), std::move(clock)) {}
  // Declaration order matters: io is destroyed first, destroying the
  // coroutine frames (sockets, streams) before the core they point into.
  server_core core;
  std::uint16_t port = 0;
  asio::io_context io{1};
  std::thread thread;

  template <class F>
  auto on_server_thread(F f) const {
    std::promise<decltype(f())> p;
    auto fut = p.get_future();
    asio::post(const_cast<asio::io_context&>(io), [&] {
      try {
        p.set_value(f());
      } catch (...) {
        p.set_exception(std::current_exception());
      }
    });
    return fut.get();
  }
};

background_sandbox::background_sandbox(config cfg, clock_source clock)
    : impl_(std::make_unique<impl>(std::move(cfg), std::move(clock))) {
  auto acceptor = bind_acceptor(impl_->io, impl_->core.cfg);
  impl_->port = acceptor.local_endpoint().port();
  asio::co_spawn(impl_->io, accept_loop(impl_->core, std::move(acceptor)), report_exception);
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

background_sandbox::~background_sandbox() {
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t background_sandbox::port() const noexcept { return impl_->port; }
const std::string& background_sandbox::host() const noexcept { return impl_->core.cfg.listen_host; }
std::string background_sandbox::base_url() const { return url_for(host(), port()); }
const std::string& background_sandbox::ca_pem() const noexcept { return impl_->core.ca_pem; }

stats_snapshot background_sandbox::stats() const {
  return impl_->on_server_thread([this] { return impl_->core.handler->snapshot(impl_->core.now()); });
}

std::vector<pair_id> background_sandbox::remaining_pairs(std::string_view from_type, std::string_view to_type) const {
  auto from = resolve_object_type(from_type);
  auto to = resolve_object_type(to_type);
  if (!from) throw std::invalid_argument("unknown object type '" + std::string(from_type) + "'");
  if (!to) throw std::invalid_argument("unknown object type '" + std::string(to_type) + "'");
  return impl_->on_server_thread([&] { return impl_->core.store.remaining_pairs(*from, *to); });
}

int run_sandbox(const config& cfg, const std::function<void(const std::string& url)>& on_listening) {
  server_core core(cfg);
  asio::io_context io{1};
  auto acceptor = bind_acceptor(io, core.cfg);
  const auto port = acceptor.local_endpoint().port();
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) io.stop();  // open connections are dropped when io is destroyed
  });
  asio::co_spawn(io, accept_loop(core, std::move(acceptor)), report_exception);
  if (on_listening) on_listening(url_for(core.cfg.listen_host, port));
  io.run();
  return 0;
}

}  // namespace hubbatch::sandbox
