// HTTP CONNECT through a proxy: afterwards the socket is a tunnel to the
// target host, and the caller runs TLS (verified against the target's name)
// inside it. Included by engine/session.cpp only (Beast templates).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>

namespace hubbatch::io {

struct tunnel_request {
  std::string_view host;               // the target host (an IPv6 address without brackets)
  std::string_view port;               // the target port
  std::string_view basic_credentials;  // base64 "user:password" for Proxy-Authorization ("" = none; a secret)
};

// Sends CONNECT host:port on `stream` (connected to the proxy) and reads the
// answer. A refusal is connection_refused with `refusal` set to why (e.g.
// "HTTP 407 (the proxy refused the credentials)"); a proxy that speaks
// before answering is invalid_argument. The credentials never outlive the call.
boost::asio::awaitable<boost::system::error_code> connect_tunnel(boost::beast::tcp_stream& stream,
                                                                 const tunnel_request& to, std::string& refusal);

}  // namespace hubbatch::io
