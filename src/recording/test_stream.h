// A synthetic camera stream for the recording tests: H.264 at 25 fps with a keyframe every
// `gop` frames, AAC at 48 kHz, on the hub's clocks, with capture times.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "media/hub/hub.h"

namespace nj::recording::testing {

inline const std::vector<uint8_t> kSps = {0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f,
                                          0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00,
                                          0x00, 0x03, 0x00, 0x32, 0x0f, 0x16, 0x2d, 0x96};
inline const std::vector<uint8_t> kPps = {0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0};

inline media::hub::StreamInfo stream_info() {
  media::hub::StreamInfo info;
  info.video_codec = "H264";
  info.sps = kSps;
  info.pps = kPps;
  info.audio_codec = "AAC";
  info.audio_sample_rate = 48000;
  info.audio_channels = 1;
  info.audio_config = {0x11, 0x88};
  return info;
}

class Stream {
 public:
  explicit Stream(int gop = 50, int64_t start_capture_us = 1'795'000'000'000'000,
                  size_t key_size = 20'000, size_t delta_size = 4'000)
      : gop_(gop), start_us_(start_capture_us), key_size_(key_size), delta_size_(delta_size) {}
  // The next frames in time order: a video frame (40 ms), and the audio frames due by then.
  std::vector<media::hub::FramePtr> next() {
    std::vector<media::hub::FramePtr> out;
    auto v = std::make_shared<media::hub::Frame>();
    v->track = media::hub::TrackKind::kVideo;
    v->timestamp = 1000 + video_ * 3600;
    v->keyframe = video_ % gop_ == 0;
    v->capture_us = start_us_ + video_ * 40'000;
    const size_t size = v->keyframe ? key_size_ : delta_size_;
    v->data = {0, 0, uint8_t(size >> 8), uint8_t(size), uint8_t(v->keyframe ? 0x65 : 0x41)};
    v->data.resize(size + 4, static_cast<uint8_t>(video_));
    video_bytes += v->data.size();
    out.push_back(v);
    ++video_;
    // AAC frames of 1,024 samples at 48 kHz: 21.33 ms each.
    while (audio_ * 1024 * 1'000'000 / 48000 < video_ * 40'000) {
      auto a = std::make_shared<media::hub::Frame>();
      a->track = media::hub::TrackKind::kAudio;
      a->timestamp = 5000 + audio_ * 1024;
      a->capture_us = start_us_ + audio_ * 1024 * 1'000'000 / 48000;
      a->data.assign(std::min<size_t>(200, delta_size_), static_cast<uint8_t>(audio_));
      audio_bytes += a->data.size();
      out.push_back(a);
      ++audio_;
    }
    return out;
  }
  int64_t video_frames() const { return video_; }
  uint64_t video_bytes = 0, audio_bytes = 0;

 private:
  int gop_;
  int64_t start_us_;
  size_t key_size_, delta_size_;
  int64_t video_ = 0, audio_ = 0;
};

}  // namespace nj::recording::testing
