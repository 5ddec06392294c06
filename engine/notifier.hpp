// A condition variable for the coroutines of one job (one thread, no locks).
#pragma once

#include "engine/clock.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <vector>

namespace hubbatch::engine {

// A condition variable for coroutines on one thread: waiters park on their
// own timer with a deadline; notify_all() wakes them all early.
class notifier {
 public:
  void notify_all() {
    for (auto* t : waiters_) t->cancel();
  }
  boost::asio::awaitable<void> wait(boost::asio::steady_timer& t, time_point deadline) {
    t.expires_at(deadline);
    waiters_.push_back(&t);
    co_await t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    std::erase(waiters_, &t);
  }

 private:
  std::vector<boost::asio::steady_timer*> waiters_;
};

}  // namespace hubbatch::engine
