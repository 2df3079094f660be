// Something that lives on one event loop and that other threads wake when it has work: an
// RTSP player or a WebSocket viewer whose hub queue got frames. net/loop_wakes.h runs the
// woken ones of a loop together.
#pragma once

#include <atomic>

namespace nj::net {

// Wakers hold a weak_ptr<Wakeable> to it, made on its loop while it is alive: converting a
// weak_ptr of the derived type elsewhere may lock it.
class Wakeable {
 public:
  virtual ~Wakeable() = default;
  // On its loop: once for all the wake-ups since it last ran.
  virtual void on_wake() = 0;

 private:
  friend class LoopWakes;
  std::atomic<bool> listed_{false};  // on its loop's list, and not run yet
};

}  // namespace nj::net
