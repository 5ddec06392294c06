// The job's connections (engine/session.cpp).
#pragma once

#include "engine/config.hpp"
#include "engine/job_state.hpp"

#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace hubbatch::engine {

// cfg.connections sessions to `url`, sending to `path` (associations_path())
// plus the operation's route for each batch (through the CONNECT proxy `proxy` when
// not null; TLS with `tls` when url.tls), each one's run() handed to j.spawn.
// Destroy the pool after the io_context has run out of work.
class session_pool {
 public:
  session_pool(job_state& j, const endpoint_url& url, const endpoint_url* proxy, boost::asio::ssl::context* tls,
               const std::string& path);
  ~session_pool();
  session_pool(const session_pool&) = delete;
  session_pool& operator=(const session_pool&) = delete;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace hubbatch::engine
