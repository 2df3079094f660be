#include "notify/delivery_queue.h"

#include <algorithm>

namespace nj::notify {

DeliveryQueue::DeliveryQueue(size_t senders) {
  for (size_t i = 0; i < std::max<size_t>(1, senders); ++i) {
    threads_.emplace_back([this] { loop(); });
  }
}

DeliveryQueue::~DeliveryQueue() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void DeliveryQueue::post(Job job, size_t attempt, std::chrono::milliseconds delay) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back({std::move(job), attempt, std::chrono::steady_clock::now() + delay});
  }
  cv_.notify_all();
}

void DeliveryQueue::drain() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return queue_.empty() && busy_ == 0; });
}

size_t DeliveryQueue::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size() + busy_;
}

void DeliveryQueue::loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (stopping_) return;
    // The first entry that is due; retries wait their turn without holding up others.
    const auto now = std::chrono::steady_clock::now();
    auto next = queue_.end();
    auto soonest = std::chrono::steady_clock::time_point::max();
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (it->due <= now) {
        next = it;
        break;
      }
      soonest = std::min(soonest, it->due);
    }
    if (next == queue_.end()) {
      if (queue_.empty()) idle_.notify_all();
      if (soonest == std::chrono::steady_clock::time_point::max()) {
        cv_.wait(lock);
      } else {
        cv_.wait_until(lock, soonest);
      }
      continue;
    }
    Entry entry = std::move(*next);
    queue_.erase(next);
    ++busy_;
    if (!queue_.empty()) cv_.notify_one();  // another sender may take the next
    lock.unlock();
    const auto again = entry.job(entry.attempt);
    lock.lock();
    --busy_;
    if (again) {
      ++entry.attempt;
      entry.due = std::chrono::steady_clock::now() + *again;
      queue_.push_back(std::move(entry));
      cv_.notify_all();  // the sleepers' earliest due time may have changed
    }
    if (queue_.empty() && busy_ == 0) idle_.notify_all();
  }
}

}  // namespace nj::notify
