#include "events/camera_snapshots.h"

#include <vector>

namespace nj::events {

bool looks_like_jpeg(std::string_view b) {
  const auto byte = [&b](size_t i) { return static_cast<uint8_t>(b[i]); };
  if (b.size() < 4 || byte(0) != 0xFF || byte(1) != 0xD8) return false;
  if (byte(b.size() - 2) != 0xFF || byte(b.size() - 1) != 0xD9) return false;
  size_t at = 2;
  bool frame = false;
  while (at + 4 <= b.size()) {
    if (byte(at) != 0xFF) return false;
    const uint8_t marker = byte(at + 1);
    if (marker == 0xFF) {  // fill byte
      ++at;
      continue;
    }
    if (marker == 0xD8 || marker == 0xD9 || (marker >= 0xD0 && marker <= 0xD7)) return false;
    const size_t length = size_t{byte(at + 2)} << 8 | byte(at + 3);
    if (length < 2 || at + 2 + length > b.size()) return false;
    const bool sof =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      if (length < 8) return false;
      const size_t height = size_t{byte(at + 5)} << 8 | byte(at + 6);
      const size_t width = size_t{byte(at + 7)} << 8 | byte(at + 8);
      if (height == 0 || width == 0 || height > 8192 || width > 8192) return false;
      frame = true;
    }
    if (marker == 0xDA) return frame;  // the scan: the entropy-coded data runs to the end
    at += 2 + length;
  }
  return false;
}

CameraSnapshotTaker::CameraSnapshotTaker(SnapshotTaker& stream, Streaming streaming, Ask ask,
                                         std::chrono::milliseconds wait)
    : stream_(stream), streaming_(std::move(streaming)), ask_(std::move(ask)), wait_(wait) {}

CameraSnapshotTaker::~CameraSnapshotTaker() {
  std::map<std::string, Pending> left;
  {
    std::lock_guard lock(state_->mu);
    state_->alive = false;
    left.swap(state_->pending);
  }
  for (auto& [id, p] : left) p.done(std::nullopt);
}

void CameraSnapshotTaker::take(const std::string& serial, const std::string& event_id, Done done) {
  if (streaming_(serial)) return stream_.take(serial, event_id, std::move(done));
  bool asked = false;
  {
    std::lock_guard lock(state_->mu);
    // Bounded: past that, the stream path (which has its own bounds).
    if (state_->pending.size() < kMaxPending) {
      state_->pending[event_id] =
          Pending{serial, std::chrono::steady_clock::now() + wait_, std::move(done)};
      asked = true;
    }
  }
  if (!asked) return stream_.take(serial, event_id, std::move(done));
  ask_(serial, event_id, [this, weak = std::weak_ptr<State>(state_), event_id](bool accepted) {
    auto state = weak.lock();
    if (!state || accepted) return;
    {
      std::lock_guard lock(state->mu);
      if (!state->alive) return;
    }
    fall_back(event_id);
  });
}

void CameraSnapshotTaker::fall_back(const std::string& event_id) {
  Pending p;
  {
    std::lock_guard lock(state_->mu);
    const auto it = state_->pending.find(event_id);
    if (it == state_->pending.end()) return;  // uploaded meanwhile
    p = std::move(it->second);
    state_->pending.erase(it);
  }
  stream_.take(p.serial, event_id, std::move(p.done));
}

CameraSnapshotTaker::Upload CameraSnapshotTaker::upload(const std::string& serial,
                                                        const std::string& event_id,
                                                        std::string jpeg) {
  Done done;
  {
    std::lock_guard lock(state_->mu);
    const auto it = state_->pending.find(event_id);
    // Another camera's event, one never asked for, or one already answered: nothing here.
    if (it == state_->pending.end() || it->second.serial != serial) return Upload::kNotAsked;
    if (jpeg.size() > kMaxUploadedSnapshot) return Upload::kTooLarge;
    if (!looks_like_jpeg(jpeg)) return Upload::kNotJpeg;
    done = std::move(it->second.done);
    state_->pending.erase(it);
  }
  done(std::move(jpeg));
  return Upload::kTaken;
}

void CameraSnapshotTaker::tick() {
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::string> late;
  {
    std::lock_guard lock(state_->mu);
    for (const auto& [id, p] : state_->pending) {
      if (p.deadline <= now) late.push_back(id);
    }
  }
  for (const auto& id : late) fall_back(id);
}

}  // namespace nj::events
