#include "support/connect_proxy.hpp"

#include <cstring>
#include <stdexcept>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace hubbatch::test {

connect_proxy::connect_proxy(int refuse_status) : refuse_status_(refuse_status) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 64) != 0)
    throw std::runtime_error("connect_proxy: bind/listen failed");
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

connect_proxy::~connect_proxy() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  acceptor_.join();
  for (auto& t : tunnels_) t.join();
}

std::string connect_proxy::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::vector<std::string> connect_proxy::targets() const {
  std::lock_guard lock(mu_);
  return targets_;
}

std::vector<std::string> connect_proxy::authorizations() const {
  std::lock_guard lock(mu_);
  return authorizations_;
}

void connect_proxy::require_authorization(std::string value) {
  std::lock_guard lock(mu_);
  required_authorization_ = std::move(value);
}

void connect_proxy::accept_loop() {
  for (;;) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) {
      if (stopping_) return;
      continue;
    }
    int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      if (stopping_) return;
      continue;
    }
    std::lock_guard lock(mu_);
    tunnels_.emplace_back([this, c] { tunnel(c); });
  }
}

void connect_proxy::tunnel(int client) {
  std::string head;
  char buf[16384];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 8192) {
    ssize_t n = ::recv(client, buf, sizeof buf, 0);
    if (n <= 0) {
      ::close(client);
      return;
    }
    head.append(buf, static_cast<std::size_t>(n));
  }
  // "CONNECT host:port HTTP/1.1"
  auto sp1 = head.find(' '), sp2 = head.find(' ', sp1 + 1);
  std::string method = head.substr(0, sp1), target = head.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string authorization;
  constexpr std::string_view field = "\r\nProxy-Authorization: ";
  if (auto at = head.find(field); at != std::string::npos) {
    auto start = at + field.size();
    authorization = head.substr(start, head.find("\r\n", start) - start);
  }
  bool authorized = true;
  {
    std::lock_guard lock(mu_);
    targets_.push_back(target);
    authorizations_.push_back(authorization);
    authorized = required_authorization_.empty() || authorization == required_authorization_;
  }
  auto reply = [&](const std::string& r) { (void)!::send(client, r.data(), r.size(), MSG_NOSIGNAL); };
  if (!authorized) {
    reply("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\n"
          "Content-Length: 0\r\n\r\n");
    ::close(client);
    return;
  }
  if (method != "CONNECT" || refuse_status_) {
    reply("HTTP/1.1 " + std::to_string(refuse_status_ ? refuse_status_ : 405) + " Refused\r\nContent-Length: 0\r\n\r\n");
    ::close(client);
    return;
  }
  auto colon = target.rfind(':');
  addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  int upstream = -1;
  if (::getaddrinfo(target.substr(0, colon).c_str(), target.substr(colon + 1).c_str(), &hints, &res) == 0) {
    upstream = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(upstream, res->ai_addr, res->ai_addrlen) != 0) {
      ::close(upstream);
      upstream = -1;
    }
    ::freeaddrinfo(res);
  }
  if (upstream < 0) {
    reply("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
    ::close(client);
    return;
  }
  reply("HTTP/1.1 200 Connection established\r\n\r\n");
  pollfd fds[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
  while (!stopping_) {
    if (::poll(fds, 2, 100) < 0) break;
    bool done = false;
    for (int i = 0; i < 2 && !done; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, 0);
      if (n <= 0) {
        done = true;
        break;
      }
      int to = fds[1 - i].fd;
      for (ssize_t off = 0; off < n;) {
        ssize_t w = ::send(to, buf + off, static_cast<std::size_t>(n - off), MSG_NOSIGNAL);
        if (w <= 0) {
          done = true;
          break;
        }
        off += w;
      }
    }
    if (done) break;
  }
  ::close(upstream);
  ::close(client);
}

}  // namespace hubbatch::test
