// Turns a hub stream into recording fragments (docs/recording.md), without re-encoding:
// the init segment once the stream can be described, then one fragment per GOP (cut at
// each video keyframe, or at 2 s if a GOP is longer), each a moof + mdat for video and, if
// the stream has audio, one for audio over the same span (a cut waits, a second at most,
// for audio that arrives later than the video it goes with). Decode times run on from the first
// keyframe for as long as the fragmenter lives, so the fragments of consecutive segment files of
// one run join without a gap. Video durations are exact: a fragment closes when the frame after it
// arrives. I/O-free.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "media/fmp4/live.h"
#include "media/hub/hub.h"

namespace nj::recording {

struct Fragment {
  std::vector<uint8_t> bytes;
  uint64_t start_ticks = 0;  // 90 kHz, from the first keyframe of the run
  uint32_t duration = 0;     // 90 kHz ticks
  bool keyframe = false;     // starts at a video keyframe
  uint32_t video_samples = 0, audio_samples = 0;
  uint64_t media_bytes = 0;  // the samples' own bytes (the rest is moof/mdat headers)
};

class Fragmenter {
 public:
  explicit Fragmenter(const media::hub::StreamInfo& info, uint32_t max_ticks = 2 * 90'000);

  // The fragment that this frame closed, if it closed one. The frame is kept (not copied)
  // until its fragment closes.
  std::optional<Fragment> push(const media::hub::FramePtr& frame);
  // The fragments in progress (the end of a stream); the last frame lasts as long as the
  // one before it.
  std::vector<Fragment> flush();

  // ftyp + moov, once the first keyframe described the stream; empty before.
  const std::vector<uint8_t>& init() const { return init_; }
  // When the run's first keyframe was captured (µs since the epoch, by the camera's clock
  // when it sends sender reports, else by arrival); 0 before it.
  int64_t start_wall_us() const { return start_wall_us_; }

 private:
  struct Pending {
    int64_t decode = 0;
    uint32_t duration = 0;
    bool keyframe = false;
    media::hub::FramePtr frame;
    std::vector<uint8_t> converted;  // used instead of the frame's bytes when not empty
    std::span<const uint8_t> data() const {
      return converted.empty() ? std::span<const uint8_t>(frame->data) : converted;
    }
  };
  std::optional<Fragment> close();
  std::optional<Fragment> close_pending(std::optional<int64_t> next_video_decode);

  media::fmp4::LiveMuxer muxer_;
  uint32_t max_ticks_;
  std::vector<uint8_t> init_;
  int64_t start_wall_us_ = 0;
  uint32_t audio_rate_;  // 0: no audio
  std::vector<Pending> video_, audio_;
  // A cut waiting for the audio to catch up: at this video decode time; what came after it.
  std::optional<int64_t> cut_;
  std::vector<Pending> next_video_, next_audio_;
  uint32_t sequence_ = 0;
};

}  // namespace nj::recording
