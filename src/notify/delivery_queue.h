// The sending side of a channel that talks to someone else's server (a push service, a
// webhook receiver): jobs run on the queue's own threads (`senders` of them, so one slow
// server's round trip does not hold up every other message), in the order they fall due,
// and a job that failed for now asks to run again after a delay, waiting its turn without
// holding up the others. Nothing here blocks the caller of post().
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace nj::notify {

class DeliveryQueue {
 public:
  // Runs with the number of attempts made before this one (0 the first time); returns how
  // long to wait before trying again, or nullopt when it is done (sent, or given up).
  using Job = std::function<std::optional<std::chrono::milliseconds>(size_t attempt)>;

  explicit DeliveryQueue(size_t senders = 1);
  ~DeliveryQueue();  // jobs not yet run are dropped
  DeliveryQueue(const DeliveryQueue&) = delete;
  DeliveryQueue& operator=(const DeliveryQueue&) = delete;

  // Runs the job after `delay`, telling it `attempt` attempts were made before (a job
  // resumed after a restart).
  void post(Job job, size_t attempt = 0,
            std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  // Waits until nothing is queued or running (tests, and retries included).
  void drain();
  size_t queued() const;

 private:
  struct Entry {
    Job job;
    size_t attempt = 0;
    std::chrono::steady_clock::time_point due;
  };
  void loop();

  mutable std::mutex mu_;
  std::condition_variable cv_, idle_;
  std::deque<Entry> queue_;
  size_t busy_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace nj::notify
