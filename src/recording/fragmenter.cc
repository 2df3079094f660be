#include "recording/fragmenter.h"

#include <chrono>

#include "media/fmp4/muxer.h"

namespace nj::recording {

Fragmenter::Fragmenter(const media::hub::StreamInfo& info, uint32_t max_ticks)
    : muxer_(info),
      max_ticks_(max_ticks),
      audio_rate_(info.audio_codec == "OPUS" ? 48'000
                  : info.audio_codec.empty() || info.audio_sample_rate == 0
                      ? 0
                      : info.audio_sample_rate) {}

std::optional<Fragment> Fragmenter::push(const media::hub::FramePtr& frame_ptr) {
  const auto& frame = *frame_ptr;
  auto made = muxer_.next_sample(frame);
  if (made.init) {
    init_ = std::move(*made.init);
    if (frame.capture_us != 0) {
      start_wall_us_ = frame.capture_us;
    } else {
      // By arrival: now, less how long ago the frame arrived.
      const int64_t now_wall = std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
      const int64_t now_steady = std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count();
      start_wall_us_ =
          now_wall - (frame.received_at_us > 0 ? now_steady - frame.received_at_us : 0);
    }
  }
  if (!made.has_sample) return std::nullopt;
  Pending p{made.decode_time, made.duration, made.keyframe, frame_ptr, std::move(made.converted)};
  if (made.track_id == 2) {
    if (!cut_) {
      audio_.push_back(std::move(p));
      return std::nullopt;
    }
    // A fragment is being cut: audio from before the cut still belongs to it; the first
    // audio from after it means the audio has caught up, and the fragment closes.
    const int64_t ticks = audio_rate_ ? p.decode * 90'000 / audio_rate_ : 0;
    if (ticks < *cut_) {
      audio_.push_back(std::move(p));
      return std::nullopt;
    }
    next_audio_.push_back(std::move(p));
    return close();
  }
  std::optional<Fragment> closed;
  if (cut_ && (p.keyframe || p.decode - *cut_ >= 90'000)) {
    // Another cut, or the audio never caught up (a second later): close what is pending.
    closed = close();
  }
  if (cut_) {
    next_video_.push_back(std::move(p));
    return closed;
  }
  if (!video_.empty() &&
      (p.keyframe || p.decode - video_.front().decode >= static_cast<int64_t>(max_ticks_))) {
    // Cut here. Without audio at once; with audio once it has caught up with the cut, so
    // that each fragment holds both tracks over the same span.
    cut_ = p.decode;
    next_video_.push_back(std::move(p));
    if (audio_rate_ == 0) {
      auto done = close();
      return closed ? closed : done;
    }
    return closed;
  }
  video_.push_back(std::move(p));
  return closed;
}

std::vector<Fragment> Fragmenter::flush() {
  std::vector<Fragment> out;
  if (cut_) {
    if (auto f = close()) out.push_back(std::move(*f));
  }
  cut_.reset();
  if (auto f = close_pending(std::nullopt)) out.push_back(std::move(*f));
  return out;
}

// Closes the fragment before the pending cut; what came after the cut becomes the next.
std::optional<Fragment> Fragmenter::close() {
  auto f = close_pending(cut_);
  video_ = std::move(next_video_);
  audio_ = std::move(next_audio_);
  next_video_.clear();
  next_audio_.clear();
  cut_.reset();
  return f;
}

std::optional<Fragment> Fragmenter::close_pending(std::optional<int64_t> next_video_decode) {
  if (video_.empty()) return std::nullopt;
  // Exact durations from one frame to the next; the last one's from the frame after it, or
  // (at the end of a stream) the interval before it.
  for (size_t i = 0; i + 1 < video_.size(); ++i) {
    video_[i].duration = static_cast<uint32_t>(video_[i + 1].decode - video_[i].decode);
  }
  if (next_video_decode) {
    video_.back().duration = static_cast<uint32_t>(*next_video_decode - video_.back().decode);
  } else if (video_.size() > 1) {
    video_.back().duration = video_[video_.size() - 2].duration;
  }
  Fragment f;
  f.start_ticks = static_cast<uint64_t>(video_.front().decode);
  f.keyframe = video_.front().keyframe;
  uint64_t total = 0;
  std::vector<media::fmp4::Sample> samples;
  samples.reserve(video_.size());
  for (const auto& v : video_) {
    samples.push_back({v.decode, v.duration, 0, v.keyframe, v.data()});
    total += v.duration;
    f.media_bytes += v.data().size();
  }
  f.duration = static_cast<uint32_t>(total);
  f.video_samples = static_cast<uint32_t>(video_.size());
  f.bytes = media::fmp4::media_segment(++sequence_, 1, samples);
  if (!audio_.empty()) {
    samples.clear();
    for (const auto& a : audio_) {
      samples.push_back({a.decode, a.duration, 0, true, a.data()});
      f.media_bytes += a.data().size();
    }
    const auto audio = media::fmp4::media_segment(++sequence_, 2, samples);
    f.bytes.insert(f.bytes.end(), audio.begin(), audio.end());
    f.audio_samples = static_cast<uint32_t>(audio_.size());
  }
  video_.clear();
  audio_.clear();
  return f;
}

}  // namespace nj::recording
