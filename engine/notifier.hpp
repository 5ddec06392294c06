// A condition variable for the coroutines of one job (one thread, no locks):
// a waiter parks on its own timer until its deadline or a notification.
// Waiters queue in FIFO order in an intrusive list (a node in the waiting
// frame: no allocation, O(1) to join or leave), and a notified waiter leaves
// the list at once, so two notify_one() calls wake two waiters.
#pragma once

#include "engine/clock.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>

namespace hubbatch::engine {

class notifier {
 public:
  // Wakes the longest waiting coroutine, if any.
  void notify_one() noexcept {
    if (head_) wake(*head_);
  }
  void notify_all() noexcept {
    while (head_) wake(*head_);
  }
  // Returns at `deadline` or when notified, whichever comes first.
  boost::asio::awaitable<void> wait(boost::asio::steady_timer& t, time_point deadline) {
    node n{&t};
    t.expires_at(deadline);
    link(n);
    co_await t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (n.linked) unlink(n);
  }
  // Waiters woken by a notification so far (tests: wake-ups per request).
  std::uint64_t woken() const noexcept { return woken_; }

 private:
  struct node {
    boost::asio::steady_timer* timer;
    node* prev = nullptr;
    node* next = nullptr;
    bool linked = false;
  };
  void link(node& n) noexcept {
    n.prev = tail_;
    (tail_ ? tail_->next : head_) = &n;
    tail_ = &n;
    n.linked = true;
  }
  void unlink(node& n) noexcept {
    (n.prev ? n.prev->next : head_) = n.next;
    (n.next ? n.next->prev : tail_) = n.prev;
    n.prev = n.next = nullptr;
    n.linked = false;
  }
  void wake(node& n) noexcept {
    unlink(n);
    n.timer->cancel();
    ++woken_;
  }

  node* head_ = nullptr;
  node* tail_ = nullptr;
  std::uint64_t woken_ = 0;
};

}  // namespace hubbatch::engine
