// Event pictures from the live stream: the first keyframe that arrives after the event began
// (so the picture shows what moved, not the scene a GOP before), decoded on a worker. A
// camera that is not streaming is woken for it; if no newer keyframe comes within `wait`,
// the newest one seen is used, and with none at all the event has no picture.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/worker_pool.h"
#include "events/event_service.h"
#include "media/hub/hub.h"

namespace nj::events {

class HubSnapshotTaker final : public SnapshotTaker {
 public:
  using Wake = std::function<void(const std::string& serial)>;
  HubSnapshotTaker(media::hub::Hub& hub, WorkerPool& workers, Wake wake,
                   std::chrono::milliseconds wait = std::chrono::seconds(6));
  ~HubSnapshotTaker() override;

  void take(const std::string& serial, const std::string& event_id,
            std::function<void(std::optional<std::string> jpeg)> done) override;

 private:
  struct Pending {
    std::string serial;
    int64_t after_us = 0;  // steady clock: keyframes received from then on show the event
    std::chrono::steady_clock::time_point deadline;
    std::unique_ptr<media::hub::Subscription> subscription;
    media::hub::FramePtr newest;  // the newest keyframe seen, for when no later one comes
    media::hub::StreamInfo info;
    bool woken = false;
    std::function<void(std::optional<std::string>)> done;
  };
  void loop();
  // Decodes on a worker and answers (no picture when the workers are too busy).
  void finish(Pending& p, media::hub::FramePtr keyframe);

  media::hub::Hub& hub_;
  WorkerPool& workers_;
  Wake wake_;
  std::chrono::milliseconds wait_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<Pending> incoming_;
  std::thread thread_;
};

}  // namespace nj::events
