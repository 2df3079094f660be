#include "media/fmp4/live.h"

#include <algorithm>

#include "media/codec/h264_sps.h"
#include "media/fmp4/muxer.h"
#include "media/rtp/h264.h"

namespace nj::media::fmp4 {

LiveMuxer::Output LiveMuxer::push(const hub::Frame& frame) {
  Output out;
  if (frame.track == hub::TrackKind::kAudio) {
    if (!started_ || !has_audio_) return out;
    if (!audio_base_) {
      const int64_t since_start = frame.received_at_us - start_arrival_us_;
      audio_base_ = frame.timestamp - since_start * info_.audio_sample_rate / 1'000'000;
    }
    const int64_t decode = frame.timestamp - *audio_base_;
    if (decode < 0 || decode <= last_audio_decode_) return out;
    last_audio_decode_ = decode;
    const Sample sample{decode, 1024, 0, true, frame.data};
    out.fragment = media_segment(++sequence_, 2, {&sample, 1});
    return out;
  }
  if (!started_) {
    if (!frame.keyframe) return out;
    if (info_.sps.empty() || info_.pps.empty()) {
      // No parameter sets announced: take them from the keyframe itself.
      rtp::for_each_avcc_nal(frame.data, [&](std::span<const uint8_t> nal) {
        if ((nal[0] & 0x1f) == 7) info_.sps.assign(nal.begin(), nal.end());
        if ((nal[0] & 0x1f) == 8) info_.pps.assign(nal.begin(), nal.end());
      });
    }
    const auto sps = codec::parse_h264_sps(info_.sps);
    if (!sps || info_.pps.empty()) return out;  // cannot describe the stream yet
    H264Track track{1, 90000, sps->width, sps->height, info_.sps, info_.pps};
    has_audio_ =
        info_.audio_codec == "AAC" && !info_.audio_config.empty() && info_.audio_sample_rate > 0;
    out.codec = sps->codec_string();
    if (has_audio_) {
      const AacTrack audio{2, info_.audio_sample_rate,
                           static_cast<uint16_t>(std::max(1, info_.audio_channels)),
                           info_.audio_config};
      out.init = init_segment(track, &audio);
      // RFC 6381: mp4a.40.<audio object type>, the first 5 bits of the config.
      *out.codec += ",mp4a.40." + std::to_string(info_.audio_config[0] >> 3);
    } else {
      out.init = init_segment(track);
    }
    out.width = sps->width;
    out.height = sps->height;
    started_ = true;
    start_arrival_us_ = frame.received_at_us;
    first_timestamp_ = frame.timestamp;
    last_timestamp_ = frame.timestamp;
  } else {
    const int64_t delta = frame.timestamp - last_timestamp_;
    if (delta <= 0) return out;  // out of order or repeated: drop rather than go back in time
    if (delta < 90000 * 5) last_duration_ = static_cast<uint32_t>(delta);
    last_timestamp_ = frame.timestamp;
  }
  const Sample sample{frame.timestamp - first_timestamp_, last_duration_, 0, frame.keyframe,
                      frame.data};
  out.fragment = media_segment(++sequence_, 1, {&sample, 1});
  return out;
}

std::shared_ptr<const hub::Packaged> LivePackager::package(const hub::Frame& frame,
                                                           const hub::StreamInfo& info) {
  if (!muxer_) muxer_ = std::make_unique<LiveMuxer>(info);
  auto out = muxer_->push(frame);
  if (out.init) {
    auto init = std::make_shared<LiveInit>();
    init->codec = out.codec.value_or("");
    init->width = out.width;
    init->height = out.height;
    init->bytes = std::move(*out.init);
    init_ = std::move(init);
  }
  auto fragment = std::make_shared<LiveFragment>();
  fragment->init = init_;
  fragment->bytes = std::move(out.fragment);
  return fragment;
}

}  // namespace nj::media::fmp4
