// Event pictures from the camera itself, for a camera that is not streaming (a battery camera
// asleep, a camera nobody watches): the server asks it (`event.snapshot` with the event's id
// and where to upload) and it uploads a JPEG over HTTPS with its own credentials. Only an
// upload the server asked for is taken: from that camera, for that event, once, within
// `wait`, at most 512 KB, and a JPEG by its structure (markers, a frame header with a sane
// size, the end marker). A camera that cannot (it answers unsupported, or nothing) or does not
// upload in time gets the stream path instead: woken, its first keyframe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "events/event_service.h"

namespace nj::events {

inline constexpr size_t kMaxUploadedSnapshot = 512 * 1024;

// Whether bytes are a baseline or progressive JPEG of 1–8192 pixels a side, complete.
bool looks_like_jpeg(std::string_view bytes);

class CameraSnapshotTaker final : public SnapshotTaker {
 public:
  using Streaming = std::function<bool(const std::string& serial)>;
  // Asks the camera to upload; `answer(true)` once it accepted, `answer(false)` if not.
  using Answer = std::function<void(bool accepted)>;
  using Ask =
      std::function<void(const std::string& serial, const std::string& event_id, Answer answer)>;

  // stream: the taker for cameras that stream (and for those that cannot upload).
  CameraSnapshotTaker(SnapshotTaker& stream, Streaming streaming, Ask ask,
                      std::chrono::milliseconds wait = std::chrono::seconds(10));
  ~CameraSnapshotTaker() override;

  void take(const std::string& serial, const std::string& event_id,
            std::function<void(std::optional<std::string> jpeg)> done) override;

  enum class Upload { kTaken, kNotAsked, kTooLarge, kNotJpeg };
  // A camera's upload (its credentials checked by the caller).
  Upload upload(const std::string& serial, const std::string& event_id, std::string jpeg);
  // Pictures not uploaded in time go to the stream path. Call every second or so.
  void tick();

 private:
  using Done = std::function<void(std::optional<std::string>)>;
  struct Pending {
    std::string serial;
    std::chrono::steady_clock::time_point deadline;
    Done done;
  };
  struct State {
    std::mutex mu;
    bool alive = true;
    std::map<std::string, Pending> pending;  // by event id
  };
  static constexpr size_t kMaxPending = 1000;
  // Hands an asked picture over to the stream path (its camera could not, or did not).
  void fall_back(const std::string& event_id);

  SnapshotTaker& stream_;
  Streaming streaming_;
  Ask ask_;
  std::chrono::milliseconds wait_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace nj::events
