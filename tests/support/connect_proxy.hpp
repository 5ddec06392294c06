// A loopback HTTP CONNECT proxy for tests: accepts on 127.0.0.1:0, answers
// CONNECT host:port with 200 and relays bytes both ways (one thread per
// tunnel), or refuses every CONNECT with `refuse_status`. With
// require_authorization() it answers 407 unless the CONNECT carries exactly
// that Proxy-Authorization value.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hubbatch::test {

class connect_proxy {
 public:
  explicit connect_proxy(int refuse_status = 0);
  ~connect_proxy();
  connect_proxy(const connect_proxy&) = delete;
  connect_proxy& operator=(const connect_proxy&) = delete;

  std::string url() const;                   // http://127.0.0.1:PORT
  std::vector<std::string> targets() const;  // request targets of every CONNECT seen
  std::vector<std::string> authorizations() const;  // Proxy-Authorization of every CONNECT ("" when absent)
  void require_authorization(std::string value);    // e.g. "Basic dXNlcjpwdw=="

 private:
  void accept_loop();
  void tunnel(int client);

  int listen_fd_ = -1;
  int port_ = 0;
  int refuse_status_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::vector<std::string> targets_;
  std::vector<std::string> authorizations_;
  std::string required_authorization_;
  std::vector<std::thread> tunnels_;
  std::thread acceptor_;
};

}  // namespace hubbatch::test
