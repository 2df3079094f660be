#include "media/fmp4/live.h"

#include <algorithm>

#include "media/codec/audio.h"
#include "media/codec/h264_sps.h"
#include "media/codec/h265_sps.h"
#include "media/fmp4/muxer.h"
#include "media/rtp/h264.h"
#include "media/rtp/h265.h"

namespace nj::media::fmp4 {

LiveMuxer::Output LiveMuxer::push(const hub::Frame& frame) {
  auto made = next_sample(frame);
  Output out;
  out.codec = std::move(made.codec);
  out.init = std::move(made.init);
  out.width = made.width;
  out.height = made.height;
  if (made.has_sample) {
    const Sample sample{made.decode_time, made.duration, 0, made.keyframe, made.data};
    out.fragment = media_segment(++sequence_, made.track_id, {&sample, 1});
  }
  return out;
}

LiveMuxer::SampleOut LiveMuxer::next_sample(const hub::Frame& frame) {
  SampleOut out;
  if (frame.track == hub::TrackKind::kAudio) {
    if (!started_ || !has_audio_) return out;
    if (!audio_base_) {
      // Where this first audio frame sits on the video's timeline: exactly, by the sender's
      // clock (RTCP sender reports), when both tracks have one; else by arrival time.
      const bool by_capture = frame.capture_us != 0 && start_capture_us_ != 0;
      const int64_t since_start = by_capture ? frame.capture_us - start_capture_us_
                                             : frame.received_at_us - start_arrival_us_;
      audio_base_ = frame.timestamp - since_start * info_.audio_sample_rate / 1'000'000;
    }
    const int64_t decode = frame.timestamp - *audio_base_;
    if (decode < 0 || decode <= last_audio_decode_) return out;
    last_audio_decode_ = decode;
    uint32_t duration = 1024;  // AAC
    std::vector<uint8_t> flac;
    if (info_.audio_codec == "OPUS") {
      auto samples = codec::opus_packet_samples(frame.data);
      if (!samples) return out;
      duration = *samples;
    } else if (info_.audio_codec == "PCMU" || info_.audio_codec == "PCMA") {
      // Browsers cannot play G.711 from MP4: decode it (a table lookup) and wrap it in FLAC.
      std::vector<int16_t> pcm(frame.data.size());
      const bool ulaw = info_.audio_codec == "PCMU";
      for (size_t i = 0; i < pcm.size(); ++i) {
        pcm[i] = ulaw ? codec::ulaw_to_pcm(frame.data[i]) : codec::alaw_to_pcm(frame.data[i]);
      }
      flac = codec::flac_frame(pcm, info_.audio_sample_rate, static_cast<uint64_t>(decode));
      if (flac.empty()) return out;
      duration = static_cast<uint32_t>(pcm.size());
    }
    out.has_sample = true;
    out.track_id = 2;
    out.decode_time = decode;
    out.duration = duration;
    out.keyframe = true;
    out.converted = std::move(flac);
    out.data = out.converted.empty() ? std::span<const uint8_t>(frame.data) : out.converted;
    return out;
  }
  if (!started_) {
    if (!frame.keyframe) return out;
    const bool hevc = info_.video_codec == "H265";
    if (info_.sps.empty() || info_.pps.empty() || (hevc && info_.vps.empty())) {
      // No parameter sets announced: take them from the keyframe itself.
      rtp::for_each_avcc_nal(frame.data, [&](std::span<const uint8_t> nal) {
        const uint8_t type = hevc ? rtp::h265_nal_type(nal[0]) : (nal[0] & 0x1f);
        if (type == (hevc ? rtp::kH265Vps : 0xff)) info_.vps.assign(nal.begin(), nal.end());
        if (type == (hevc ? rtp::kH265Sps : 7)) info_.sps.assign(nal.begin(), nal.end());
        if (type == (hevc ? rtp::kH265Pps : 8)) info_.pps.assign(nal.begin(), nal.end());
      });
    }
    H264Track track;
    track.sps = info_.sps;
    track.pps = info_.pps;
    if (hevc) {
      const auto sps = codec::parse_h265_sps(info_.sps);
      if (!sps || info_.pps.empty() || info_.vps.empty()) return out;  // not describable yet
      track.codec = H264Track::Codec::kH265;
      track.vps = info_.vps;
      track.width = sps->width;
      track.height = sps->height;
      out.codec = sps->codec_string();
    } else {
      const auto sps = codec::parse_h264_sps(info_.sps);
      if (!sps || info_.pps.empty()) return out;  // cannot describe the stream yet
      track.width = sps->width;
      track.height = sps->height;
      out.codec = sps->codec_string();
    }
    AudioTrack audio;
    audio.sample_rate = info_.audio_sample_rate;
    audio.channels = static_cast<uint16_t>(std::clamp(info_.audio_channels, 1, 8));
    if (info_.audio_codec == "AAC" && !info_.audio_config.empty() && audio.sample_rate > 0) {
      has_audio_ = true;
      audio.config = info_.audio_config;
      // RFC 6381: mp4a.40.<audio object type>, the first 5 bits of the config.
      *out.codec += ",mp4a.40." + std::to_string(info_.audio_config[0] >> 3);
    } else if (info_.audio_codec == "OPUS") {
      has_audio_ = true;
      audio.codec = AudioTrack::Codec::kOpus;
      audio.sample_rate = 48000;
      *out.codec += ",opus";
    } else if ((info_.audio_codec == "PCMU" || info_.audio_codec == "PCMA") &&
               audio.sample_rate > 0) {
      has_audio_ = true;
      audio.codec = AudioTrack::Codec::kFlac;
      audio.channels = 1;
      audio.config = codec::flac_streaminfo(audio.sample_rate, 1, 16, 4096);
      *out.codec += ",flac";
    }
    if (has_audio_) {
      out.init = init_segment(track, &audio);
    } else {
      out.init = init_segment(track);
    }
    out.width = track.width;
    out.height = track.height;
    started_ = true;
    start_arrival_us_ = frame.received_at_us;
    start_capture_us_ = frame.capture_us;
    first_timestamp_ = frame.timestamp;
    last_timestamp_ = frame.timestamp;
  } else {
    const int64_t delta = frame.timestamp - last_timestamp_;
    if (delta <= 0) return out;  // out of order or repeated: drop rather than go back in time
    if (delta < 90000 * 5) last_duration_ = static_cast<uint32_t>(delta);
    last_timestamp_ = frame.timestamp;
  }
  out.has_sample = true;
  out.track_id = 1;
  out.decode_time = frame.timestamp - first_timestamp_;
  out.duration = last_duration_;
  out.keyframe = frame.keyframe;
  out.data = frame.data;
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
