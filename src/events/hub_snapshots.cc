#include "events/hub_snapshots.h"

#include "media/snapshot/jpeg.h"

namespace nj::events {
HubSnapshotTaker::HubSnapshotTaker(media::hub::Hub& hub, WorkerPool& workers, Wake wake,
                                   std::chrono::milliseconds wait)
    : hub_(hub), workers_(workers), wake_(std::move(wake)), wait_(wait) {
  thread_ = std::thread([this] { loop(); });
}

HubSnapshotTaker::~HubSnapshotTaker() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void HubSnapshotTaker::take(const std::string& serial, const std::string& /*event_id*/,
                            std::function<void(std::optional<std::string>)> done) {
  Pending p;
  p.serial = serial;
  // Taken as the event is made, so "now" is its start; a little slack for a keyframe that
  // arrived with the report.
  p.after_us = steady_now_us() - 100'000;
  p.deadline = std::chrono::steady_clock::now() + wait_;
  p.done = std::move(done);
  {
    std::lock_guard lock(mu_);
    incoming_.push_back(std::move(p));
  }
  cv_.notify_all();
}

void HubSnapshotTaker::finish(Pending& p, media::hub::FramePtr keyframe) {
  auto done = std::move(p.done);
  if (!keyframe) return done(std::nullopt);
  const bool queued = workers_.post([keyframe, info = p.info, done]() mutable {
    const bool hevc = info.video_codec == "H265";
    const std::span<const uint8_t> sets[] = {info.vps, info.sps, info.pps};
    auto jpeg = media::snapshot::keyframe_to_jpeg(
        hevc ? media::snapshot::VideoCodec::kH265 : media::snapshot::VideoCodec::kH264,
        keyframe->data, sets);
    if (!jpeg) return done(std::nullopt);
    done(std::move(*jpeg));
  });
  if (!queued) done(std::nullopt);  // the machine is busy: no picture rather than a backlog
}

void HubSnapshotTaker::loop() {
  std::vector<Pending> pending;
  std::vector<media::hub::FramePtr> frames;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      // Idle, it sleeps until asked; with pictures to make, it looks every 100 ms.
      const auto asked = [this] { return stopping_ || !incoming_.empty(); };
      if (pending.empty()) {
        cv_.wait(lock, asked);
      } else {
        cv_.wait_for(lock, std::chrono::milliseconds(100), asked);
      }
      for (auto& p : incoming_) pending.push_back(std::move(p));
      incoming_.clear();
      if (stopping_) break;
    }
    const auto now = std::chrono::steady_clock::now();
    for (auto it = pending.begin(); it != pending.end();) {
      Pending& p = *it;
      if (!p.subscription) {
        const std::string path = "push/" + p.serial;
        if (hub_.is_published(path)) {
          if (auto sub = hub_.subscribe(path, {})) {
            p.info = (*sub)->info();
            p.subscription = std::move(*sub);
          }
        } else if (!p.woken && wake_) {
          p.woken = true;
          wake_(p.serial);
        }
      }
      media::hub::FramePtr chosen;
      if (p.subscription) {
        frames.clear();
        p.subscription->queue().drain(frames);
        for (const auto& f : frames) {
          if (f->track != media::hub::TrackKind::kVideo || !f->keyframe) continue;
          if (f->received_at_us >= p.after_us) {
            chosen = f;
            break;
          }
          p.newest = f;
        }
      }
      if (chosen || now >= p.deadline) {
        finish(p, chosen ? chosen : p.newest);
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& p : pending) p.done(std::nullopt);
  std::lock_guard lock(mu_);
  for (auto& p : incoming_) p.done(std::nullopt);
  incoming_.clear();
}

}  // namespace nj::events
