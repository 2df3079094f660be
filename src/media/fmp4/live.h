// Turns a hub stream into a live fMP4 feed for one viewer: the init segment once the
// parameter sets are known, then one fragment per access unit, sent the moment it arrives
// (the duration of a sample is estimated from the previous interval, so nothing waits for
// the next frame). Decode times start at zero for each viewer.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "media/hub/hub.h"

namespace nj::media::fmp4 {

class LiveMuxer {
 public:
  // info may lack parameter sets; they are then taken from the first keyframe.
  explicit LiveMuxer(hub::StreamInfo info) : info_(std::move(info)) {}

  struct Output {
    std::optional<std::string> codec;          // set with the init segment: "avc1.64001e"
    std::optional<std::vector<uint8_t>> init;  // ftyp + moov, once
    std::vector<uint8_t> fragment;             // moof + mdat; empty if the frame is skipped
    uint32_t width = 0, height = 0;
  };
  // Frames before the first keyframe give an empty output. Audio is placed on the video's
  // timeline by the camera's clock (Frame::capture_us, from its RTCP sender reports) when
  // both tracks have it, else by arrival time.
  Output push(const hub::Frame& frame);

  // The same, one level down: the init segment when it is first known, and the frame as a
  // sample of track 1 (video) or 2 (audio) on the stream's timeline, for those that build
  // their own fragments (the recorder). A video sample's duration is an estimate (the
  // previous interval).
  struct SampleOut {
    std::optional<std::string> codec;
    std::optional<std::vector<uint8_t>> init;
    uint32_t width = 0, height = 0;
    bool has_sample = false;
    uint32_t track_id = 0;
    int64_t decode_time = 0;
    uint32_t duration = 0;
    bool keyframe = false;
    // The sample's bytes: the frame's own, or `converted` (G.711 as FLAC, for browsers).
    // Valid while the frame and this output live (a move keeps it valid).
    std::span<const uint8_t> data;
    std::vector<uint8_t> converted;
  };
  SampleOut next_sample(const hub::Frame& frame);

 private:
  hub::StreamInfo info_;
  bool started_ = false;
  bool has_audio_ = false;
  int64_t start_arrival_us_ = 0;
  int64_t start_capture_us_ = 0;
  std::optional<int64_t> audio_base_;  // audio timestamp that maps to decode time 0
  int64_t last_audio_decode_ = -1;
  int64_t first_timestamp_ = 0;
  int64_t last_timestamp_ = 0;
  uint32_t last_duration_ = 3600;  // 25 fps until two frames tell
  uint32_t sequence_ = 0;
};

// The live fMP4 of one stream, made once for all its viewers (a hub packager): a shared init
// segment and one fragment per frame, on one timeline that starts at the first keyframe the
// packager saw. Viewers start at any keyframe; players seek to the start of what they got.
struct LiveInit {
  std::string codec;  // "avc1.64001f,mp4a.40.2"
  uint32_t width = 0, height = 0;
  std::vector<uint8_t> bytes;  // ftyp + moov
};

struct LiveFragment final : hub::Packaged {
  std::shared_ptr<const LiveInit> init;  // null until the stream could be described
  std::vector<uint8_t> bytes;            // moof + mdat; empty when the frame is left out
};

class LivePackager final : public hub::Packager {
 public:
  std::shared_ptr<const hub::Packaged> package(const hub::Frame& frame,
                                               const hub::StreamInfo& info) override;

 private:
  std::unique_ptr<LiveMuxer> muxer_;
  std::shared_ptr<const LiveInit> init_;
};

}  // namespace nj::media::fmp4
