// The woken Wakeables of one event loop, run by one handler. A frame wakes every viewer of its
// stream at once, on the publisher's thread. A posted handler per viewer per frame costs an
// allocation and a post each; instead a woken Wakeable puts itself on its loop's list once,
// and one handler on that loop runs the whole list. One per event loop (an Asio service of
// its execution context). For the servers' translation units only: it includes Asio.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution_context.hpp>
#include <memory>
#include <mutex>
#include <vector>

#include "net/wakeable.h"

namespace nj::net {

class LoopWakes final : public boost::asio::execution_context::service {
 public:
  static inline boost::asio::execution_context::id id;
  explicit LoopWakes(boost::asio::execution_context& context) : service(context) {}

  // The service of `loop`'s event loop. Takes the service registry's lock: look it up once
  // (per connection), not per wake-up.
  static LoopWakes& of(const boost::asio::any_io_executor& loop);

  // Any thread. target.on_wake() runs on this loop soon, unless it is gone by then. Once
  // listed, it is not listed again until its run begins: the run sees whatever came
  // meanwhile. `handle` is the same object's: the list keeps it, not the object, so that
  // the last reference is never dropped on the waking thread (the hub wakes under a
  // stream's lock, which a viewer's destructor takes). target must live through the call.
  void wake(Wakeable& target, const std::weak_ptr<Wakeable>& handle);

  // While a Batch lives on a thread, the wake-ups made there wait, and go to their loops
  // together when it ends: the frames of one read of a pusher's socket (an audio frame and
  // the video frame behind it, say) wake each loop once, and each viewer then gets both in
  // one drain. Without a Batch a wake-up goes to its loop at once. Nests.
  class Batch {
   public:
    Batch();
    ~Batch();
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;
  };

 private:
  using Entries = std::vector<std::weak_ptr<Wakeable>>;
  // Moves entries (emptying it) onto the list; posts the run unless one is coming.
  void hand_over(Entries& entries);
  void run();
  void shutdown() override;

  std::mutex mu_;
  boost::asio::any_io_executor loop_;  // set by of(), before any wake-up
  Entries pending_;
  Entries running_;  // the loop thread's only
  bool posted_ = false;
};

}  // namespace nj::net
