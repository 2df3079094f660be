// Plays one recording of the SD card to the cloud (sd.play): the file's frames are published
// on a local hub stream at the pace they were recorded, starting at the keyframe at or
// before the requested offset, and pushed by RTSP to the URL the cloud gave. Audio the hub
// cannot carry (FLAC made for browsers) is left out; the picture plays.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "media/fmp4/replay.h"
#include "media/hub/hub.h"
#include "media/rtsp/client_io.h"
#include "net/io_pool.h"

namespace nj::cam {

struct SdPlayOptions {
  std::filesystem::path file;
  int64_t offset_ms = 0;       // from the start of the recording
  int64_t recorded_at_ms = 0;  // when the recording started (its name says), for the clock
  std::string push_url;        // rtsp://…/sd/{serial}?token=…
  std::string local_path = "sd-playback";
};

class SdPlayer {
 public:
  // Reads and checks the file; the playback starts at once. An error says why not.
  static Result<std::unique_ptr<SdPlayer>, std::string> start(net::IoPool& pool,
                                                              media::hub::Hub& hub,
                                                              SdPlayOptions options);
  ~SdPlayer();  // stops playing and pushing

  int64_t duration_ms() const { return duration_ms_; }
  int64_t start_ms() const { return start_ms_; }  // where playback really starts (a keyframe)
  bool finished() const { return finished_; }
  uint64_t bytes_sent() const;

 private:
  explicit SdPlayer(SdPlayOptions options) : options_(std::move(options)) {}
  void run(std::unique_ptr<media::hub::Publisher> publisher);

  struct Entry {
    int64_t time_us = 0;  // from the recording's first video frame
    size_t fragment_at = 0, fragment_size = 0;
    media::fmp4::DemuxSample sample;
  };
  SdPlayOptions options_;
  std::vector<uint8_t> bytes_;
  media::fmp4::ReplayTracks tracks_;
  std::vector<Entry> entries_;  // in time order
  size_t first_ = 0;            // the entry playback starts at
  int64_t duration_ms_ = 0, start_ms_ = 0;
  std::unique_ptr<media::rtsp::Pusher> pusher_;
  std::mutex mu_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

}  // namespace nj::cam
