#include "support/tls_test_server.hpp"

#include "io/text.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>

#include <mutex>
#include <thread>

namespace hubbatch::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct tls_test_server::connection::impl {
  impl(tcp::socket s, asio::ssl::context& ctx, tls_test_server::state& st, std::size_t index)
      : stream(std::move(s), ctx), owner(st), index(index) {}
  asio::ssl::stream<tcp::socket> stream;
  tls_test_server::state& owner;
  std::size_t index;  // into state::stats.records
  std::string buffer;  // bytes read past the last request
};

struct tls_test_server::state {
  state(asio::ssl::context c, script s) : ctx(std::move(c)), run(std::move(s)), acceptor(io) {}
  asio::io_context io;
  asio::ssl::context ctx;
  script run;
  tcp::acceptor acceptor;
  std::uint16_t port = 0;
  std::thread accept_thread;

  mutable std::mutex mu;
  stats_t stats;
  std::vector<std::unique_ptr<connection::impl>> conns;
  std::vector<std::thread> threads;
  bool stopping = false;

  template <class F>
  void record(std::size_t i, F f) {
    std::lock_guard lock(mu);
    f(stats.records[i]);
  }

  void serve(connection::impl& c) {
    boost::system::error_code ec;
    c.stream.handshake(asio::ssl::stream_base::server, ec);
    record(c.index, [&](connection_record& r) {
      r.handshake_ok = !ec;
      if (ec) r.handshake_error = ec.message();
    });
    if (!ec) {
      connection conn(c);
      run(conn);
    }
    // Shut down, not close: the destructor may shut the same descriptor
    // down concurrently, and a closed number could be reused meanwhile.
    ::shutdown(c.stream.lowest_layer().native_handle(), SHUT_RDWR);
    record(c.index, [](connection_record& r) { r.script_done = true; });
  }

  void accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket s = acceptor.accept(ec);
      std::lock_guard lock(mu);
      if (stopping) return;
      if (ec) continue;
      ++stats.connections;
      stats.records.emplace_back();
      conns.push_back(std::make_unique<connection::impl>(std::move(s), ctx, *this, stats.records.size() - 1));
      connection::impl* c = conns.back().get();
      threads.emplace_back([this, c] { serve(*c); });
    }
  }
};

bool tls_test_server::connection::read_more() {
  auto& c = impl_;
  char buf[16 * 1024];
  boost::system::error_code ec;
  std::size_t n = c.stream.read_some(asio::buffer(buf), ec);
  if (ec) {
    c.owner.record(c.index, [](connection_record& r) { r.peer_closed = true; });
    return false;
  }
  c.buffer.append(buf, n);
  return true;
}

bool tls_test_server::connection::read_request() {
  auto& c = impl_;
  constexpr std::size_t max_head = 64 * 1024;
  std::size_t end;
  while ((end = c.buffer.find("\r\n\r\n")) == std::string::npos) {
    if (c.buffer.size() > max_head || !read_more()) return false;
  }
  head_ = c.buffer.substr(0, end + 4);
  c.buffer.erase(0, end + 4);
  std::size_t length = 0;
  for (std::size_t p = 0; (p = head_.find("\r\n", p)) != std::string::npos;) {
    p += 2;
    const std::size_t eol = head_.find("\r\n", p);
    if (eol == std::string::npos) break;
    std::string_view line(head_.data() + p, eol - p);
    constexpr std::string_view name = "content-length:";
    if (line.size() > name.size() && io::istarts_with(line, name))
      length = std::stoul(std::string(line.substr(name.size())));
  }
  while (c.buffer.size() < length)
    if (!read_more()) return false;
  body_ = c.buffer.substr(0, length);
  c.buffer.erase(0, length);
  std::lock_guard lock(c.owner.mu);
  ++c.owner.stats.records[c.index].requests;
  c.owner.stats.request_heads.push_back(head_);
  return true;
}

tls_test_server::script tls_test_server::answer_204() {
  return [](connection& c) {
    while (c.read_request())
      if (!c.write("HTTP/1.1 204 No Content\r\n\r\n")) return;
  };
}

bool tls_test_server::connection::write(std::string_view bytes) {
  boost::system::error_code ec;
  asio::write(impl_.stream, asio::buffer(bytes.data(), bytes.size()), ec);
  impl_.owner.record(impl_.index, [&](connection_record& r) {
    if (ec) r.peer_closed = true;
    else r.bytes_written += bytes.size();
  });
  return !ec;
}

tls_test_server::tls_test_server(asio::ssl::context ctx, script s)
    : state_(std::make_unique<state>(std::move(ctx), std::move(s))) {
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  state_->acceptor.open(ep.protocol());
  state_->acceptor.set_option(asio::socket_base::reuse_address(true));
  state_->acceptor.bind(ep);
  state_->acceptor.listen();
  state_->port = state_->acceptor.local_endpoint().port();
  state_->accept_thread = std::thread([this] { state_->accept_loop(); });
}

tls_test_server::~tls_test_server() {
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = true;
    // shutdown(2) wakes the blocked accept() and every blocked read/write.
    ::shutdown(state_->acceptor.native_handle(), SHUT_RDWR);
    for (auto& c : state_->conns) ::shutdown(c->stream.lowest_layer().native_handle(), SHUT_RDWR);
  }
  state_->accept_thread.join();
  for (auto& t : state_->threads) t.join();
}

std::uint16_t tls_test_server::port() const noexcept { return state_->port; }
std::string tls_test_server::base_url() const { return "https://127.0.0.1:" + std::to_string(state_->port); }

tls_test_server::stats_t tls_test_server::stats() const {
  std::lock_guard lock(state_->mu);
  return state_->stats;
}

bool tls_test_server::wait_idle(std::chrono::milliseconds limit) const {
  auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    {
      std::lock_guard lock(state_->mu);
      bool idle = true;
      for (const auto& r : state_->stats.records) idle = idle && r.script_done;
      if (idle) return true;
    }
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace hubbatch::test
