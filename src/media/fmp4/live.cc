#include "media/fmp4/live.h"

#include "media/codec/h264_sps.h"
#include "media/fmp4/muxer.h"
#include "media/rtp/h264.h"

namespace nj::media::fmp4 {

LiveMuxer::Output LiveMuxer::push(const hub::Frame& frame) {
  Output out;
  if (frame.track != hub::TrackKind::kVideo) return out;
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
    out.init = init_segment(track);
    out.codec = sps->codec_string();
    out.width = sps->width;
    out.height = sps->height;
    started_ = true;
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

}  // namespace nj::media::fmp4
