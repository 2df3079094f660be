// The camera's SD card: a directory where the camera's own stream is recorded continuously
// as fragmented MP4 files of about a minute, kept as a ring (the oldest goes when the card
// is full). The cloud lists, deletes and formats through the agent's RPCs (policy items 19
// and 23: only with the user's permission, from the app).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "media/hub/hub.h"

namespace nj::cam {

struct SdOptions {
  std::filesystem::path dir;
  uint64_t capacity_bytes = 256ull * 1024 * 1024;
  std::chrono::seconds segment{60};  // a new file at the first keyframe after this long
};

class SdCard {
 public:
  // Records hub stream `path` (once it exists) into options.dir.
  SdCard(media::hub::Hub& hub, std::string path, SdOptions options);
  ~SdCard();

  struct Recording {
    std::string name;  // "{start_ms}-{end_ms}.mp4"
    int64_t start_ms = 0, end_ms = 0;
    uint64_t bytes = 0;
  };
  // Finished recordings, oldest first (the one being written is not listed).
  std::vector<Recording> list() const;
  // The file of one finished recording, with when it started; nullopt if there is none of
  // that name.
  std::optional<std::pair<std::filesystem::path, int64_t>> file_of(const std::string& name) const;
  // Deletes one finished recording; false if there is no such file.
  bool remove(const std::string& name);
  // Deletes every recording, the one in progress included (it starts again).
  void format();
  // Whose the camera is now (the cloud's binding tag; nullopt: nobody's). The card keeps the
  // last one it served (`.binding` beside the recordings): when the camera is unbound, or
  // bound to another account than last time, every recording is erased first, so the next
  // owner never sees the last one's. Returns true if it erased the card.
  bool settle_owner(const std::optional<std::string>& binding);

  struct State {
    uint64_t capacity_bytes = 0, used_bytes = 0;
    std::string health;  // "ok", or why not
  };
  State state() const;

 private:
  void run();
  void write_frame(const media::hub::Frame& frame, const media::hub::StreamInfo& info);
  void close_current();
  void enforce_capacity();
  uint64_t used_bytes() const;

  media::hub::Hub& hub_;
  std::string path_;
  SdOptions options_;
  void wake();
  mutable std::mutex mu_;  // guards the file state below against format/remove/state
  bool format_requested_ = false;
  std::mutex wake_mu_;  // only for the wake-up flag
  std::condition_variable wake_;
  bool woken_ = false;
  std::atomic<bool> stopping_{false};
  struct Current;
  std::unique_ptr<Current> current_;
  std::string health_ = "ok";
  std::thread thread_;
};

}  // namespace nj::cam
