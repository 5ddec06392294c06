// A small synchronous HTTPS/1.1 client for tests: one keep-alive TLS
// connection that verifies the server like production code does (trusting
// exactly the given CA PEM, checking the host name or IP). It reconnects on
// the next request after the connection dropped.
//
//   hubbatch::test::https_client c("127.0.0.1", sandbox.port(), sandbox.ca_pem());
//   auto r = c.post("/crm/v4/associations/contacts/companies/batch/archive", body, "token");
//   EXPECT_EQ(r.status, 204);
//   auto x = c.send("POST", target, body, {{"Authorization", "Bearer t"}});
//   if (x.error) { /* reset, EOF, timeout, TLS failure: x.response is what arrived, if anything */ }
//
// Not thread-safe; use one client per thread.
#pragma once

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hubbatch::test {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_response {
  int status = 0;        // 0 when no status line arrived
  header_list headers;   // in arrival order
  std::string body;
  // Value of the first header named `name` (case-insensitive); "" if absent.
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
};

struct http_result {
  boost::system::error_code error;  // transport failure (reset, EOF, timeout, TLS, truncated body)
  http_response response;           // what arrived (complete only when !error)
  bool ok() const noexcept { return !error; }
};

class https_client {
 public:
  // Connects lazily on the first request. `timeout` bounds each connect,
  // handshake, write and read.
  https_client(std::string host, std::uint16_t port, std::string ca_pem,
               std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~https_client();
  https_client(const https_client&) = delete;
  https_client& operator=(const https_client&) = delete;

  // Sends one request (Host and Content-Length are added; Content-Type
  // application/json when body is non-empty and not in `headers`) and reads
  // the response. Never throws for transport errors: they come back in
  // .error and the connection is dropped.
  http_result send(std::string_view method, std::string_view target, std::string_view body = {},
                   const header_list& headers = {});
  // Writes `bytes` verbatim on the TLS connection and reads one response.
  http_result send_raw(std::string_view bytes);

  // Conveniences that throw std::runtime_error on a transport error.
  // post() sends "Authorization: Bearer <token>" unless token is empty.
  http_response post(std::string_view target, std::string_view body, std::string_view token = "test-token");
  http_response get(std::string_view target);

  bool connected() const noexcept;
  void close();  // drops the connection (without TLS close_notify)
  std::size_t connections_opened() const noexcept;  // TLS connections established so far

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace hubbatch::test
