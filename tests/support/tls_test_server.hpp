// A scripted TLS server for hostile-server and TLS-failure tests: it speaks
// raw bytes over TLS on 127.0.0.1:0 and does whatever the test's script says
// (endless headers, a body that never ends, a redirect, a TLS 1.1-only
// handshake...), unlike the sandbox, which always behaves.
//
//   hubbatch::test::tls_test_server srv(hubbatch::io::make_server_context(cert, key),
//       [](hubbatch::test::tls_test_server::connection& c) {
//         if (!c.read_request()) return;
//         c.write("HTTP/1.1 200 OK\r\nContent-Length: 5368709120\r\n\r\n");
//         while (c.write(std::string(65536, 'x'))) {}   // until the client hangs up
//       });
//   ... run a job against srv.base_url() ...
//   auto s = srv.stats();   // connections, handshakes, requests, how each ended
//
// One thread accepts; each connection runs the script on a thread of its
// own with blocking I/O. The destructor shuts every socket down (which
// unblocks the scripts) and joins the threads. Thread-safe accessors.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hubbatch::test {

class tls_test_server {
 public:
  // One accepted connection, as the script sees it. Every call blocks.
  class connection {
   public:
    // Reads one request (head, then a Content-Length body) into last_head /
    // last_body; false on EOF, error or a head over 64 KiB.
    bool read_request();
    // Writes all of `bytes`; false once the peer closed or reset (the
    // script should then return).
    bool write(std::string_view bytes);
    const std::string& last_head() const noexcept { return head_; }
    const std::string& last_body() const noexcept { return body_; }

    struct impl;
    explicit connection(impl& i) : impl_(i) {}

   private:
    bool read_more();  // one read into the buffer; false (peer_closed recorded) when it fails
    impl& impl_;
    std::string head_, body_;
  };
  using script = std::function<void(connection&)>;
  // A script answering every request 204 No Content until the client leaves.
  static script answer_204();

  // How the server saw one connection end.
  struct connection_record {
    bool handshake_ok = false;
    std::string handshake_error;     // "" when the handshake succeeded
    std::uint64_t requests = 0;      // complete request heads read
    std::uint64_t bytes_written = 0;  // bytes the script wrote successfully
    bool peer_closed = false;        // a write or read failed because the client closed or reset
    bool script_done = false;        // the script returned
  };
  struct stats_t {
    std::uint64_t connections = 0;   // TCP connections accepted
    std::vector<connection_record> records;
    std::vector<std::string> request_heads;  // every request head read, in order
  };

  tls_test_server(boost::asio::ssl::context ctx, script s);
  ~tls_test_server();
  tls_test_server(const tls_test_server&) = delete;
  tls_test_server& operator=(const tls_test_server&) = delete;

  std::uint16_t port() const noexcept;
  std::string base_url() const;  // "https://127.0.0.1:PORT"
  stats_t stats() const;
  // Waits (polling, bounded by `limit`) until every accepted connection's
  // script has returned; false on timeout.
  bool wait_idle(std::chrono::milliseconds limit = std::chrono::seconds(10)) const;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace hubbatch::test
