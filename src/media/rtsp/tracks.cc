#include "media/rtsp/tracks.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "media/codec/h264_sps.h"
#include "media/codec/h265_sps.h"

namespace nj::media::rtsp {
namespace {

uint32_t random_u32() {
  static thread_local std::mt19937 rng{std::random_device{}()};
  return static_cast<uint32_t>(rng());
}

bool iequals_ascii(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// "1190" → {0x11, 0x90}; empty on any bad digit.
std::vector<uint8_t> hex_bytes(std::string_view hex) {
  std::vector<uint8_t> out;
  if (hex.size() % 2 != 0 || hex.size() > 64) return out;
  auto digit = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return {};
    out.push_back(static_cast<uint8_t>(hi * 16 + lo));
  }
  return out;
}

std::string hex_string(const std::vector<uint8_t>& bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (uint8_t b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

void set_dimensions(hub::StreamInfo& info) {
  if (info.video_codec == "H265") {
    if (auto sps = codec::parse_h265_sps(info.sps)) {
      info.width = sps->width;
      info.height = sps->height;
    }
  } else if (auto sps = codec::parse_h264_sps(info.sps)) {
    info.width = sps->width;
    info.height = sps->height;
  }
}

// The first of a comma-separated list of base64 parameter sets (sprop-vps/sps/pps).
std::vector<uint8_t> first_parameter_set(const sdp::Media& media, const std::string& key) {
  const auto it = media.fmtp.find(key);
  if (it == media.fmtp.end()) return {};
  auto decoded = sdp::base64_decode(it->second.substr(0, it->second.find(',')));
  return decoded ? *decoded : std::vector<uint8_t>{};
}

}  // namespace

int64_t steady_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

const std::vector<double>& relay_delay_buckets() {
  static const std::vector<double> bounds = {25e-6,  50e-6, 100e-6, 250e-6, 500e-6, 1e-3,
                                             1.5e-3, 2e-3,  3e-3,   5e-3,   10e-3,  25e-3,
                                             50e-3,  0.1,   0.25,   1};
  return bounds;
}

RtpCounters RtpCounters::in(metrics::Registry& registry) {
  auto& family = registry.counter("nightjar_rtp_packets_total",
                                  "RTP packets through the RTSP server, by outcome.", {"outcome"});
  auto& delay = registry.histogram(
      "nightjar_media_relay_delay_seconds",
      "From a live access unit's last packet arriving to its hand-off to a viewer's socket.",
      {"output"}, relay_delay_buckets());
  auto& dropped = registry.counter(
      "nightjar_media_viewer_dropped_frames_total",
      "Frames slow viewers skipped (their queue was emptied to resume at a keyframe).", {"output"});
  return RtpCounters{family.with({"received"}),  family.with({"lost"}), family.with({"malformed"}),
                     family.with({"sent"}),      delay.with({"rtsp"}),  dropped.with({"rtsp"}),
                     family.with({"reordered"}), family.with({"late"})};
}

Result<std::unique_ptr<Ingest>, std::string> Ingest::from_sdp(const sdp::Session& session) {
  std::unique_ptr<Ingest> in(new Ingest());
  for (size_t i = 0; i < session.media.size(); ++i) {
    const auto& media = session.media[i];
    if (in->audio_track_ < 0 && media.type == "audio" &&
        iequals_ascii(media.encoding, "MPEG4-GENERIC") && media.fmtp.count("mode") &&
        iequals_ascii(media.fmtp.at("mode"), "AAC-hbr") && media.fmtp.count("config") &&
        media.clock_rate > 0) {
      auto config = hex_bytes(media.fmtp.at("config"));
      if (!config.empty()) {
        in->audio_track_ = static_cast<int>(i);
        in->info_.audio_codec = "AAC";
        in->info_.audio_sample_rate = media.clock_rate;
        in->info_.audio_channels = media.channels;
        in->info_.audio_config = std::move(config);
      }
    }
    if (in->audio_track_ < 0 && media.type == "audio") {
      // Opus (RFC 7587: always opus/48000/2 in the SDP) and G.711, also by static type.
      std::string codec;
      if (iequals_ascii(media.encoding, "opus")) {
        codec = "OPUS";
      } else if (iequals_ascii(media.encoding, "PCMU") ||
                 (media.encoding.empty() && media.payload_type == 0)) {
        codec = "PCMU";
      } else if (iequals_ascii(media.encoding, "PCMA") ||
                 (media.encoding.empty() && media.payload_type == 8)) {
        codec = "PCMA";
      }
      if (!codec.empty()) {
        in->audio_track_ = static_cast<int>(i);
        in->info_.audio_codec = codec;
        in->info_.audio_sample_rate =
            codec == "OPUS" ? 48000 : (media.clock_rate > 0 ? media.clock_rate : 8000);
        in->info_.audio_channels = codec == "OPUS" ? std::max(1, media.channels) : 1;
      }
    }
    if (in->video_track_ < 0 && media.type == "video" && iequals_ascii(media.encoding, "H264")) {
      in->video_track_ = static_cast<int>(i);
      in->info_.video_codec = "H264";
      if (auto sets = sdp::h264_parameter_sets(media)) {
        in->info_.sps = sets->sps;
        in->info_.pps = sets->pps;
        set_dimensions(in->info_);
      }
    }
  }
  for (size_t i = 0; i < session.media.size() && in->video_track_ < 0; ++i) {
    const auto& media = session.media[i];
    if (media.type != "video" || !iequals_ascii(media.encoding, "H265")) continue;
    in->video_track_ = static_cast<int>(i);
    in->info_.video_codec = "H265";
    in->info_.vps = first_parameter_set(media, "sprop-vps");
    in->info_.sps = first_parameter_set(media, "sprop-sps");
    in->info_.pps = first_parameter_set(media, "sprop-pps");
    set_dimensions(in->info_);
  }
  if (in->video_track_ < 0) return Unexpected(std::string("no H.264 or H.265 video track"));
  return in;
}

void Ingest::start(FrameSink frames, InfoSink info_changed, const RtpCounters* counters) {
  frames_ = std::move(frames);
  info_changed_ = std::move(info_changed);
  counters_ = counters;
  if (info_.video_codec == "H265") {
    video265_ = std::make_unique<rtp::H265Depacketizer>(
        [this](rtp::H264AccessUnit&& au) { on_video(std::move(au)); });
    if (!info_.sps.empty()) video265_->set_parameter_sets(info_.vps, info_.sps, info_.pps);
  } else {
    video_ = std::make_unique<rtp::H264Depacketizer>(
        [this](rtp::H264AccessUnit&& au) { on_video(std::move(au)); });
    if (!info_.sps.empty()) video_->set_parameter_sets(info_.sps, info_.pps);
  }
  if (audio_track_ >= 0 && info_.audio_codec != "AAC") {
    audio_frames_ = std::make_unique<rtp::FrameDepacketizer>([this](rtp::AudioFrame&& f) {
      auto frame = std::make_shared<hub::Frame>();
      frame->track = hub::TrackKind::kAudio;
      frame->timestamp = f.timestamp;
      frame->received_at_us = steady_now_us();
      frame->capture_us = capture_us(true, f.timestamp);
      frame->data = std::move(f.data);
      ++stats_.frames;
      frames_(std::move(frame));
    });
  } else if (audio_track_ >= 0) {
    audio_ = std::make_unique<rtp::AacDepacketizer>([this](rtp::AacFrame&& f) {
      auto frame = std::make_shared<hub::Frame>();
      frame->track = hub::TrackKind::kAudio;
      frame->timestamp = f.timestamp;
      frame->received_at_us = steady_now_us();
      frame->capture_us = capture_us(true, f.timestamp);
      frame->data = std::move(f.data);
      ++stats_.frames;
      frames_(std::move(frame));
    });
  }
}

void Ingest::push_rtcp(int track, std::span<const uint8_t> packet) {
  auto report = rtp::parse_sender_report(packet);
  if (!report) return;
  if (track == video_track_) video_report_ = report;
  if (track == audio_track_) audio_report_ = report;
}

int64_t Ingest::capture_us(bool audio, int64_t timestamp) const {
  const auto& report = audio ? audio_report_ : video_report_;
  const uint32_t rate = audio ? info_.audio_sample_rate : 90000;
  if (!report || rate == 0) return 0;
  // The frame's 32-bit RTP time against the report's, within ±2^31 ticks.
  const int64_t ticks =
      static_cast<int32_t>(static_cast<uint32_t>(timestamp) - report->rtp_timestamp);
  return report->unix_us() + ticks * 1'000'000 / rate;
}

void Ingest::on_video(rtp::H264AccessUnit&& au) {
  // Parameter sets in band replace the announced ones (the camera may change them).
  const auto& sps = video265_ ? video265_->sps() : video_->sps();
  if (!sps.empty() && sps != info_.sps) {
    info_.sps = sps;
    info_.pps = video265_ ? video265_->pps() : video_->pps();
    if (video265_) info_.vps = video265_->vps();
    set_dimensions(info_);
    if (info_changed_) info_changed_(info_);
  }
  auto frame = std::make_shared<hub::Frame>();
  frame->track = hub::TrackKind::kVideo;
  frame->timestamp = au.timestamp;
  frame->received_at_us = steady_now_us();
  frame->keyframe = au.keyframe;
  frame->capture_us = capture_us(false, au.timestamp);
  frame->data = std::move(au.avcc);
  ++stats_.frames;
  frames_(std::move(frame));
}

void Ingest::enable_reordering(rtp::ReorderOptions options) {
  if (video_order_) return;  // once per session, whichever track is set up first
  video_order_ = std::make_unique<rtp::ReorderBuffer>(
      [this](const rtp::Packet& p) { depacketize(true, p); }, options);
  audio_order_ = std::make_unique<rtp::ReorderBuffer>(
      [this](const rtp::Packet& p) { depacketize(false, p); }, options);
}

void Ingest::push(int track, std::span<const uint8_t> bytes) {
  const bool video = (video_ || video265_) && track == video_track_;
  const bool audio = (audio_ || audio_frames_) && track == audio_track_;
  if (!video && !audio) return;
  ++stats_.packets;
  if (counters_) counters_->received.inc();
  auto packet = rtp::parse(bytes);
  if (!packet) {
    ++stats_.bad_packets;
    if (counters_) counters_->malformed.inc();
    return;
  }
  auto& order = video ? video_order_ : audio_order_;
  if (!order) {
    depacketize(video, *packet);
    return;
  }
  const auto before = order->stats();
  order->push(bytes, *packet, steady_now_us());
  const auto& after = order->stats();
  const uint64_t reordered = after.reordered - before.reordered;
  const uint64_t late = after.late + after.duplicate - before.late - before.duplicate;
  stats_.reordered += reordered;
  stats_.late += late;
  if (counters_) {
    counters_->reordered.inc(reordered);
    counters_->late.inc(late);
  }
}

void Ingest::depacketize(bool video, const rtp::Packet& packet) {
  if (video) {
    const auto before = video265_ ? video265_->stats() : video_->stats();
    if (video265_) {
      video265_->push(packet);
    } else {
      video_->push(packet);
    }
    const auto& after = video265_ ? video265_->stats() : video_->stats();
    const uint64_t lost = after.lost_packets - before.lost_packets;
    const uint64_t bad =
        after.bad_packets - before.bad_packets + after.unsupported - before.unsupported;
    stats_.lost_packets += lost;
    stats_.bad_packets += bad;
    if (counters_) {
      counters_->lost.inc(lost);
      counters_->malformed.inc(bad);
    }
  } else if (audio_frames_) {
    const auto before = audio_frames_->bad_packets();
    audio_frames_->push(packet);
    const uint64_t bad = audio_frames_->bad_packets() - before;
    stats_.bad_packets += bad;
    if (counters_) counters_->malformed.inc(bad);
  } else {
    const auto before = audio_->bad_packets();
    audio_->push(packet);
    const uint64_t bad = audio_->bad_packets() - before;
    stats_.bad_packets += bad;
    if (counters_) counters_->malformed.inc(bad);
  }
}

void Ingest::flush() {
  if (video_order_) video_order_->flush();
  if (audio_order_) audio_order_->flush();
  if (video_) video_->flush();
  if (video265_) video265_->flush();
}

Egress::Egress(const hub::StreamInfo& info, Sink sink, const RtpCounters* counters)
    : info_(info), sink_(std::move(sink)), counters_(counters) {
  if (info.video_codec == "H265") {
    video265_ = std::make_unique<rtp::H265Packetizer>(96, random_u32(),
                                                      static_cast<uint16_t>(random_u32()));
    video_out_.ssrc = video265_->ssrc();
  } else {
    video_ = std::make_unique<rtp::H264Packetizer>(96, random_u32(),
                                                   static_cast<uint16_t>(random_u32()));
    video_out_.ssrc = video_->ssrc();
  }
  video_out_.timestamp_offset = random_u32();
  if (info.audio_codec == "AAC" && info.audio_sample_rate > 0) {
    audio_ =
        std::make_unique<rtp::AacPacketizer>(97, random_u32(), static_cast<uint16_t>(random_u32()));
    audio_out_.ssrc = audio_->ssrc();
  } else if ((info.audio_codec == "OPUS" || info.audio_codec == "PCMU" ||
              info.audio_codec == "PCMA") &&
             info.audio_sample_rate > 0) {
    const uint8_t pt = info.audio_codec == "PCMU" ? 0 : info.audio_codec == "PCMA" ? 8 : 97;
    audio_frames_ = std::make_unique<rtp::FramePacketizer>(pt, random_u32(),
                                                           static_cast<uint16_t>(random_u32()));
    audio_out_.ssrc = audio_frames_->ssrc();
  }
  if (has_audio()) {
    audio_out_.timestamp_offset = random_u32();
    audio_out_.clock_rate = info.audio_sample_rate;
  }
}

std::string Egress::sdp(const std::string& name) const {
  sdp::Session s;
  s.name = name;
  sdp::Media v;
  v.type = "video";
  v.protocol = "RTP/AVP";
  v.payload_type = 96;
  v.encoding = video265_ ? "H265" : "H264";
  v.clock_rate = 90000;
  if (video265_) {
    if (!info_.vps.empty()) v.fmtp["sprop-vps"] = sdp::base64_encode(info_.vps);
    if (!info_.sps.empty()) v.fmtp["sprop-sps"] = sdp::base64_encode(info_.sps);
    if (!info_.pps.empty()) v.fmtp["sprop-pps"] = sdp::base64_encode(info_.pps);
  } else {
    v.fmtp["packetization-mode"] = "1";
  }
  if (!video265_ && !info_.sps.empty() && !info_.pps.empty()) {
    v.fmtp["sprop-parameter-sets"] =
        sdp::base64_encode(info_.sps) + "," + sdp::base64_encode(info_.pps);
    if (info_.sps.size() >= 4) {
      char pli[8];
      std::snprintf(pli, sizeof pli, "%02X%02X%02X", info_.sps[1], info_.sps[2], info_.sps[3]);
      v.fmtp["profile-level-id"] = pli;
    }
  }
  v.control = "trackID=0";
  s.media.push_back(std::move(v));
  if (audio_frames_) {
    sdp::Media a;
    a.type = "audio";
    a.protocol = "RTP/AVP";
    if (info_.audio_codec == "OPUS") {
      a.payload_type = 97;
      a.encoding = "opus";
      a.clock_rate = 48000;
      a.channels = 2;  // RFC 7587: always /2; sprop-stereo says what is sent
      a.fmtp["sprop-stereo"] = info_.audio_channels > 1 ? "1" : "0";
    } else {
      a.payload_type = info_.audio_codec == "PCMU" ? 0 : 8;
      a.encoding = info_.audio_codec;
      a.clock_rate = info_.audio_sample_rate;
    }
    a.control = "trackID=1";
    s.media.push_back(std::move(a));
  }
  if (audio_) {
    sdp::Media a;
    a.type = "audio";
    a.protocol = "RTP/AVP";
    a.payload_type = 97;
    a.encoding = "MPEG4-GENERIC";
    a.clock_rate = info_.audio_sample_rate;
    a.channels = info_.audio_channels;
    a.fmtp = {{"streamtype", "5"},
              {"profile-level-id", "1"},
              {"mode", "AAC-hbr"},
              {"sizelength", "13"},
              {"indexlength", "3"},
              {"indexdeltalength", "3"},
              {"config", hex_string(info_.audio_config)}};
    a.control = "trackID=1";
    s.media.push_back(std::move(a));
  }
  return sdp::write(s);
}

uint16_t Egress::next_sequence(int track) const {
  if (track == 1 && audio_) return audio_->next_sequence();
  if (track == 1 && audio_frames_) return audio_frames_->next_sequence();
  return video265_ ? video265_->next_sequence() : video_->next_sequence();
}

uint32_t Egress::rtp_timestamp(const hub::Frame& frame) const {
  const auto& out = frame.track == hub::TrackKind::kAudio ? audio_out_ : video_out_;
  return static_cast<uint32_t>(frame.timestamp) + out.timestamp_offset;
}

void Egress::set_track_enabled(int track, bool enabled) {
  (track == 0 ? video_out_ : audio_out_).enabled = enabled;
}

// One RTP packet out on a track, counted for its sender reports and the metrics.
void Egress::emit(int track, Output& out, std::span<const uint8_t> packet) {
  sink_(track, false, packet);
  ++stats_.packets;
  if (counters_) counters_->sent.inc();
  ++out.packets;
  out.octets += static_cast<uint32_t>(packet.size() - 12);
}

void Egress::send(const hub::Frame& frame) {
  if (frame.track == hub::TrackKind::kAudio) {
    if (!started_ || !has_audio() || !audio_out_.enabled) return;
    const uint32_t ts = rtp_timestamp(frame);
    anchor(audio_out_, ts, frame);
    maybe_report(1, audio_out_, ts);
    auto sent = [&](std::span<const uint8_t> packet) { emit(1, audio_out_, packet); };
    if (audio_) {
      audio_->packetize(frame.data, ts, sent);
    } else {
      audio_frames_->packetize(frame.data, ts, sent);
    }
    return;
  }
  if (!started_ && !frame.keyframe) return;
  if (!started_) started_at_us_ = steady_now_us();
  started_ = true;
  if (!video_out_.enabled) return;
  ++stats_.frames;
  const uint32_t ts = rtp_timestamp(frame);
  anchor(video_out_, ts, frame);
  maybe_report(0, video_out_, ts);
  auto sent = [&](std::span<const uint8_t> packet) { emit(0, video_out_, packet); };
  if (video265_) {
    video265_->packetize(frame.data, ts, sent);
  } else {
    video_->packetize(frame.data, ts, sent);
  }
  if (counters_ && frame.received_at_us >= started_at_us_) {
    counters_->relay_delay.observe(static_cast<double>(steady_now_us() - frame.received_at_us) /
                                   1e6);
  }
}

// Gives a track its fixed line from RTP time to the stream's timeline, at its first frame.
// The first one placed (the first keyframe) sets the timeline: at its capture time by the
// camera's clock when the camera sent sender reports, else at its arrival by ours. Every
// later track is placed by the same clock: by its own capture time if the first one was and
// this frame has one, else by how long after that first frame it arrived. So the tracks'
// lines agree with each other, and a player can start both at one instant.
void Egress::anchor(Output& out, uint32_t rtp_timestamp, const hub::Frame& frame) {
  if (out.anchored) return;
  int64_t wall_us = 0;
  if (base_wall_us_ == 0) {
    const int64_t now = steady_now_us();
    const int64_t age_us =
        frame.received_at_us > 0 ? std::max<int64_t>(0, now - frame.received_at_us) : 0;
    base_captured_ = frame.capture_us != 0;
    base_received_us_ = frame.received_at_us > 0 ? frame.received_at_us : now;
    base_wall_us_ = base_captured_ ? frame.capture_us
                                   : std::chrono::duration_cast<std::chrono::microseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                             .count() -
                                         age_us;
    wall_us = base_wall_us_;
  } else if (base_captured_ && frame.capture_us != 0) {
    wall_us = frame.capture_us;
  } else {
    const int64_t received = frame.received_at_us > 0 ? frame.received_at_us : steady_now_us();
    wall_us = base_wall_us_ + (received - base_received_us_);
  }
  constexpr uint64_t kNtpToUnixSeconds = 2'208'988'800ULL;
  const auto seconds = static_cast<uint64_t>(wall_us / 1'000'000);
  const auto micros = static_cast<uint64_t>(wall_us % 1'000'000);
  out.anchor_ntp = ((seconds + kNtpToUnixSeconds) << 32) | ((micros << 32) / 1'000'000);
  out.anchor_rtp = rtp_timestamp;
  out.anchored = true;
}

std::optional<uint64_t> Egress::ntp_time(int track, uint32_t rtp_timestamp) const {
  const Output& out = track == 0 ? video_out_ : audio_out_;
  if (!out.anchored || out.clock_rate == 0) return std::nullopt;
  // Exact in NTP units, so that receivers converting back get whole RTP ticks and never see
  // two frames at one instant.
  const int64_t elapsed_ticks = static_cast<int32_t>(rtp_timestamp - out.anchor_rtp);
  const auto offset = static_cast<int64_t>((static_cast<__int128>(elapsed_ticks) << 32) /
                                           static_cast<__int128>(out.clock_rate));
  return out.anchor_ntp + static_cast<uint64_t>(offset);
}

std::optional<uint32_t> Egress::rtp_time_at(int track, uint64_t ntp) const {
  const Output& out = track == 0 ? video_out_ : audio_out_;
  if (!out.anchored || out.clock_rate == 0) return std::nullopt;
  // Rounded up to the next whole tick, so that the instant is never later than the time
  // the tick stands for (a player's first audio is then never before its first video).
  const auto elapsed = static_cast<__int128>(static_cast<int64_t>(ntp - out.anchor_ntp));
  const __int128 scaled = elapsed * out.clock_rate;
  const __int128 one = static_cast<__int128>(1) << 32;
  const __int128 ticks = scaled >= 0 ? (scaled + one - 1) / one : scaled / one;
  return out.anchor_rtp + static_cast<uint32_t>(static_cast<int64_t>(ticks));
}

// A sender report about once a second per track, on the track's fixed line (anchor()):
// reports never contradict each other (no jitter).
void Egress::maybe_report(int track, Output& out, uint32_t rtp_timestamp) {
  const int64_t now = steady_now_us();
  if (out.last_report_us != 0 && now - out.last_report_us < 1'000'000) return;
  out.last_report_us = now;
  const auto ntp = ntp_time(track, rtp_timestamp);
  if (!ntp) return;
  std::vector<uint8_t> report;
  rtp::write_sender_report(report, out.ssrc, *ntp, rtp_timestamp, out.packets, out.octets);
  sink_(track, true, report);
}

void RtpPackets::for_each(
    const std::function<void(int channel, std::span<const uint8_t> packet)>& f) const {
  if (!interleaved) return;
  const auto& b = *interleaved;
  for (size_t at = 0; at + 4 <= b.size();) {
    const size_t len = static_cast<size_t>(b[at + 2]) << 8 | b[at + 3];
    if (at + 4 + len > b.size()) break;  // never: we framed it
    f(b[at + 1], std::span<const uint8_t>(b).subspan(at + 4, len));
    at += 4 + len;
  }
}

std::shared_ptr<const hub::Packaged> RtpPackager::package(const hub::Frame& frame,
                                                          const hub::StreamInfo& info) {
  if (!egress_) {
    // One egress per stream: its packets are every player's. Counted per player instead
    // (what each one was sent), so no counters here.
    egress_ = std::make_unique<Egress>(
        info,
        [this](int track, bool rtcp, std::span<const uint8_t> packet) {
          if (packet.size() > 0xffff) return;  // cannot be framed; packetizers never make one
          const auto channel = static_cast<uint8_t>(track * 2 + (rtcp ? 1 : 0));
          current_.push_back('$');
          current_.push_back(channel);
          current_.push_back(static_cast<uint8_t>(packet.size() >> 8));
          current_.push_back(static_cast<uint8_t>(packet.size() & 0xff));
          current_.insert(current_.end(), packet.begin(), packet.end());
          if (!rtcp) {
            ++packets_;
            if (!first_ && packet.size() >= 8) {
              first_ = std::make_pair(static_cast<uint16_t>(packet[2] << 8 | packet[3]),
                                      static_cast<uint32_t>(packet[4]) << 24 |
                                          static_cast<uint32_t>(packet[5]) << 16 |
                                          static_cast<uint32_t>(packet[6]) << 8 | packet[7]);
            }
          }
        },
        nullptr);
  }
  current_.clear();
  packets_ = 0;
  first_.reset();
  egress_->send(frame);
  auto out = std::make_shared<RtpPackets>();
  if (packets_ > 0) {
    out->interleaved = std::make_shared<const std::vector<uint8_t>>(std::move(current_));
    current_ = {};
    out->packets = packets_;
    out->first_sequence = first_->first;
    out->rtp_timestamp = first_->second;
    const int track = frame.track == hub::TrackKind::kVideo ? 0 : 1;
    out->ntp = egress_->ntp_time(track, out->rtp_timestamp).value_or(0);
    if (track == 0 && egress_->has_audio()) {
      out->audio_rtp_timestamp = egress_->rtp_time_at(1, out->ntp);
    }
  }
  return out;
}

void install_rtp_packager(hub::Hub& hub) {
  hub.set_packager_factory(hub::Packaging::kRtp, [] { return std::make_unique<RtpPackager>(); });
}

}  // namespace nj::media::rtsp
