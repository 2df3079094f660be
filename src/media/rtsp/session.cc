#include "media/rtsp/session.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "media/codec/h264_sps.h"
#include "media/sdp/sdp.h"

namespace nj::media::rtsp {
namespace {

constexpr const char* kPublic =
    "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, RECORD, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, "
    "SET_PARAMETER";

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint32_t random_u32() {
  static thread_local std::mt19937 rng{std::random_device{}()};
  return static_cast<uint32_t>(rng());
}

bool iequals_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
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

}  // namespace

std::optional<StreamUrl> parse_stream_url(std::string_view uri) {
  if (uri.starts_with("rtsp://") || uri.starts_with("rtsps://")) {
    const auto slash = uri.find('/', uri.find("://") + 3);
    if (slash == std::string_view::npos) return std::nullopt;
    uri.remove_prefix(slash + 1);
  } else if (uri.starts_with("/")) {
    uri.remove_prefix(1);
  } else {
    return std::nullopt;
  }
  StreamUrl out;
  // The path is kind/serial[/track]. A client appends the track's control either to the
  // path ("…/CAM1/trackID=0?token=T") or after the whole URL, query included
  // ("…/CAM1?token=T/streamid=0", "…?token=T/stream=0").
  std::string_view path = uri, query;
  if (const auto q = uri.find('?'); q != std::string_view::npos) {
    path = uri.substr(0, q);
    query = uri.substr(q + 1);
    if (const auto slash = query.rfind('/'); slash != std::string_view::npos) {
      out.track = std::string(query.substr(slash + 1));
      query = query.substr(0, slash);
    }
  }
  while (path.ends_with('/')) path.remove_suffix(1);
  const auto first = path.find('/');
  if (first == std::string_view::npos) return std::nullopt;
  out.kind = std::string(path.substr(0, first));
  auto serial = path.substr(first + 1);
  if (const auto second = serial.find('/'); second != std::string_view::npos) {
    if (!out.track.empty()) return std::nullopt;  // a track in both places
    out.track = std::string(serial.substr(second + 1));
    serial = serial.substr(0, second);
    if (out.track.find('/') != std::string::npos) return std::nullopt;
  }
  out.serial = std::string(serial);
  if (out.serial.empty() || out.serial.find_first_of("/?#% ") != std::string::npos ||
      out.serial.size() > 64) {
    return std::nullopt;
  }
  for (std::string_view rest = query; !rest.empty();) {
    const auto amp = rest.find('&');
    const auto pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.starts_with("token=")) out.token = std::string(pair.substr(6));
  }
  return out;
}

RtpCounters RtpCounters::in(metrics::Registry& registry) {
  auto& family = registry.counter("nightjar_rtp_packets_total",
                                  "RTP packets through the RTSP server, by outcome.", {"outcome"});
  return RtpCounters{family.with({"received"}), family.with({"lost"}), family.with({"malformed"}),
                     family.with({"sent"})};
}

ServerSession::~ServerSession() {
  subscription_.reset();
  if (depacketizer_) depacketizer_->flush();
  publisher_.reset();
}

Result<size_t, Error> ServerSession::feed(std::span<const uint8_t> data) {
  size_t used = 0;
  while (used < data.size()) {
    Item item;
    auto n = parse(data.subspan(used), item);
    if (!n) return Unexpected(n.error());
    if (*n == 0) break;
    if (item.kind == Item::Kind::kFrame) {
      on_frame_rtp(item.channel, item.frame_payload);
    } else {
      handle(item.message);
    }
    used += *n;
  }
  return used;
}

void ServerSession::respond(const Message& request, int status, std::string_view reason,
                            const std::vector<std::pair<std::string, std::string>>& headers,
                            std::string body) {
  Message r;
  r.is_request = false;
  r.status = status;
  r.reason = std::string(reason);
  r.set_header("CSeq", std::to_string(request.cseq().value_or(0)));
  r.set_header("Server", "Nightjar");
  if (!session_id_.empty() && mode_ != Mode::kNone)
    r.set_header("Session", session_id_ + ";timeout=60");
  for (const auto& [k, v] : headers) r.set_header(k, v);
  r.body = std::move(body);
  connection_.send(serialize(r));
}

void ServerSession::handle(const Message& req) {
  if (!req.is_request) return;  // a response from the client: nothing to do
  if (!req.cseq()) {
    respond(req, 400, "Bad Request");
    return;
  }
  const auto& m = req.method;
  if (m == "OPTIONS") {
    respond(req, 200, "OK", {{"Public", kPublic}});
    return;
  }
  if (m == "GET_PARAMETER" || m == "SET_PARAMETER") {
    respond(req, 200, "OK");  // keep-alive
    return;
  }
  const auto url = parse_stream_url(req.uri);
  if (!url) {
    respond(req, 404, "Not Found");
    return;
  }
  if (m == "TEARDOWN") {
    respond(req, 200, "OK");
    connection_.close();
    return;
  }
  if (m == "ANNOUNCE") {
    if (url->kind != "push" || mode_ != Mode::kNone) {
      respond(req, 455, "Method Not Valid in This State");
      return;
    }
    if (!auth_.allow(url->serial, Purpose::kPush, url->token)) {
      respond(req, 401, "Unauthorized");
      return;
    }
    auto sdp = sdp::parse(req.body);
    if (!sdp) {
      respond(req, 400, "Bad Request");
      return;
    }
    for (size_t i = 0; i < sdp->media.size(); ++i) {
      const auto& media = sdp->media[i];
      announced_controls_.push_back(media.control);
      if (audio_track_ < 0 && media.type == "audio" &&
          iequals_ascii(media.encoding, "MPEG4-GENERIC") && media.fmtp.count("mode") &&
          iequals_ascii(media.fmtp.at("mode"), "AAC-hbr") && media.fmtp.count("config")) {
        const auto config = hex_bytes(media.fmtp.at("config"));
        if (!config.empty()) {
          audio_track_ = static_cast<int>(i);
          announced_.audio_codec = "AAC";
          announced_.audio_sample_rate = media.clock_rate;
          announced_.audio_channels = media.channels;
          announced_.audio_config = config;
        }
      }
      if (video_track_ < 0 && media.type == "video" && media.encoding == "H264") {
        video_track_ = static_cast<int>(i);
        announced_.video_codec = "H264";
        if (auto sets = sdp::h264_parameter_sets(media)) {
          announced_.sps = sets->sps;
          announced_.pps = sets->pps;
          if (auto sps = codec::parse_h264_sps(sets->sps)) {
            announced_.width = sps->width;
            announced_.height = sps->height;
          }
        }
      }
    }
    if (video_track_ < 0) {
      respond(req, 415, "Unsupported Media Type");  // no H.264 video to relay
      return;
    }
    serial_ = url->serial;
    session_id_ = std::to_string(random_u32()) + std::to_string(random_u32());
    mode_ = Mode::kAnnounced;
    respond(req, 200, "OK");
    return;
  }
  if (m == "DESCRIBE") {
    if (url->kind != "live") {
      respond(req, 404, "Not Found");
      return;
    }
    if (!auth_.allow(url->serial, Purpose::kPlay, url->token)) {
      respond(req, 401, "Unauthorized");
      return;
    }
    auto probe = hub_.subscribe("push/" + url->serial, {});
    if (!probe) {
      respond(req, 404, "Not Found");  // nothing is being pushed for this device
      return;
    }
    const auto info = (*probe)->info();
    probe->reset();
    has_play_audio_ = info.audio_codec == "AAC" && info.audio_sample_rate > 0;
    if (has_play_audio_) audio_clock_rate_ = info.audio_sample_rate;
    serial_ = url->serial;
    if (session_id_.empty())
      session_id_ = std::to_string(random_u32()) + std::to_string(random_u32());
    mode_ = Mode::kDescribed;
    // The base for the tracks' controls, without the query: clients resolve "trackID=0"
    // against it as a relative URL (RFC 3986 drops the base's query), and the token was
    // checked here; SETUP and PLAY on this connection belong to this DESCRIBE.
    std::string base = req.uri.substr(0, req.uri.find('?'));
    if (!base.ends_with('/')) base += '/';
    respond(req, 200, "OK", {{"Content-Type", "application/sdp"}, {"Content-Base", base}},
            describe_sdp(info));
    return;
  }
  if (m == "SETUP") {
    const auto transport = parse_transport(req.header("Transport").value_or(""));
    if (!transport) {
      respond(req, 461, "Unsupported Transport");
      return;
    }
    if (!transport->tcp) {
      respond(req, 461, "Unsupported Transport");  // UDP comes later; clients retry over TCP
      return;
    }
    if (url->serial != serial_) {
      respond(req, 455, "Method Not Valid in This State");
      return;
    }
    int channel = transport->interleaved ? transport->interleaved->first : next_channel_;
    next_channel_ = channel + 2;
    if (mode_ == Mode::kAnnounced) {
      // Which announced track is this? Match the control suffix; unknown tracks are refused.
      int index = -1;
      for (size_t i = 0; i < announced_controls_.size(); ++i) {
        if (!announced_controls_[i].empty() &&
            (announced_controls_[i] == url->track || req.uri.ends_with(announced_controls_[i]))) {
          index = static_cast<int>(i);
        }
      }
      if (index < 0 && announced_controls_.size() == 1) index = 0;
      if (index < 0) {
        respond(req, 404, "Not Found");
        return;
      }
      if (index == video_track_) video_channel_ = channel;
      if (index == audio_track_) audio_channel_ = channel;
    } else if (mode_ == Mode::kDescribed) {
      if (url->track == "trackID=0") {
        play_channel_ = channel;
      } else if (url->track == "trackID=1" && has_play_audio_) {
        play_audio_channel_ = channel;
      } else {
        respond(req, 404, "Not Found");
        return;
      }
    } else {
      respond(req, 455, "Method Not Valid in This State");
      return;
    }
    Transport reply = *transport;
    reply.interleaved = std::make_pair(channel, channel + 1);
    respond(req, 200, "OK", {{"Transport", format_transport(reply)}});
    return;
  }
  if (m == "RECORD") {
    if (mode_ != Mode::kAnnounced || video_channel_ < 0) {
      respond(req, 455, "Method Not Valid in This State");
      return;
    }
    auto publisher = hub_.publish("push/" + serial_, announced_);
    if (!publisher) {
      respond(req, 453, "Not Enough Bandwidth");  // another session already pushes this device
      return;
    }
    publisher_ = std::move(*publisher);
    depacketizer_ = std::make_unique<rtp::H264Depacketizer>([this](rtp::H264AccessUnit&& au) {
      // Parameter sets in band replace the announced ones (the camera may change them).
      if (!depacketizer_->sps().empty() && depacketizer_->sps() != announced_.sps) {
        announced_.sps = depacketizer_->sps();
        announced_.pps = depacketizer_->pps();
        if (auto sps = codec::parse_h264_sps(announced_.sps)) {
          announced_.width = sps->width;
          announced_.height = sps->height;
        }
        publisher_->update_info(announced_);
      }
      auto frame = std::make_shared<hub::Frame>();
      frame->track = hub::TrackKind::kVideo;
      frame->timestamp = au.timestamp;
      frame->received_at_us = now_us();
      frame->keyframe = au.keyframe;
      frame->data = std::move(au.avcc);
      publisher_->publish(std::move(frame));
    });
    if (!announced_.sps.empty()) depacketizer_->set_parameter_sets(announced_.sps, announced_.pps);
    if (audio_channel_ >= 0) {
      audio_depacketizer_ = std::make_unique<rtp::AacDepacketizer>([this](rtp::AacFrame&& f) {
        auto frame = std::make_shared<hub::Frame>();
        frame->track = hub::TrackKind::kAudio;
        frame->timestamp = f.timestamp;
        frame->received_at_us = now_us();
        frame->data = std::move(f.data);
        publisher_->publish(std::move(frame));
      });
    }
    mode_ = Mode::kRecording;
    respond(req, 200, "OK");
    return;
  }
  if (m == "PLAY") {
    if (mode_ != Mode::kDescribed && mode_ != Mode::kPlaying) {
      respond(req, 455, "Method Not Valid in This State");
      return;
    }
    if (!subscription_) {
      std::weak_ptr<ServerSession> weak = weak_from_this();
      auto sub = hub_.subscribe("push/" + serial_, [weak, this] {
        connection_.post([weak] {
          if (auto self = weak.lock()) self->drain();
        });
      });
      if (!sub) {
        respond(req, 404, "Not Found");
        return;
      }
      subscription_ = std::move(*sub);
      packetizer_ = std::make_unique<rtp::H264Packetizer>(96, random_u32(),
                                                          static_cast<uint16_t>(random_u32()));
      timestamp_offset_ = random_u32();
      if (play_audio_channel_ >= 0) {
        audio_packetizer_ = std::make_unique<rtp::AacPacketizer>(
            97, random_u32(), static_cast<uint16_t>(random_u32()));
        audio_timestamp_offset_ = random_u32();
      }
      waiting_for_keyframe_ = true;
    }
    // The first frames' times go into RTP-Info, so look at the queue before answering.
    subscription_->queue().drain(drained_);
    uint32_t first_ts = timestamp_offset_;
    uint32_t first_audio_ts = audio_timestamp_offset_;
    bool seen_video = false, seen_audio = false;
    for (const auto& f : drained_) {
      if (f->track == hub::TrackKind::kVideo && !seen_video) {
        first_ts = static_cast<uint32_t>(f->timestamp) + timestamp_offset_;
        seen_video = true;
      } else if (f->track == hub::TrackKind::kAudio && seen_video && !seen_audio) {
        first_audio_ts = static_cast<uint32_t>(f->timestamp) + audio_timestamp_offset_;
        seen_audio = true;
      }
    }
    std::string rtp_info;
    {
      std::string base_url = req.uri.substr(0, req.uri.find('?'));
      while (base_url.ends_with('/')) base_url.pop_back();
      rtp_info = "url=" + base_url +
                 "/trackID=0;seq=" + std::to_string(packetizer_->next_sequence()) +
                 ";rtptime=" + std::to_string(first_ts);
      if (audio_packetizer_) {
        rtp_info += ",url=" + base_url +
                    "/trackID=1;seq=" + std::to_string(audio_packetizer_->next_sequence()) +
                    ";rtptime=" + std::to_string(first_audio_ts);
      }
    }
    mode_ = Mode::kPlaying;
    respond(req, 200, "OK", {{"Range", "npt=0.000-"}, {"RTP-Info", rtp_info}});
    drain();
    return;
  }
  if (m == "PAUSE") {
    if (mode_ == Mode::kPlaying) {
      subscription_.reset();
      mode_ = Mode::kDescribed;
    }
    respond(req, 200, "OK");
    return;
  }
  respond(req, 501, "Not Implemented");
}

void ServerSession::on_frame_rtp(uint8_t channel, std::span<const uint8_t> payload) {
  if (mode_ != Mode::kRecording) return;  // media before RECORD, or RTCP from players
  const bool video = static_cast<int>(channel) == video_channel_;
  const bool audio = audio_depacketizer_ && static_cast<int>(channel) == audio_channel_;
  if (!video && !audio) return;  // RTCP and tracks we do not relay
  ++stats_.rtp_packets_in;
  if (counters_) counters_->received.inc();
  auto packet = rtp::parse(payload);
  if (!packet) {
    ++stats_.bad_rtp_packets;
    if (counters_) counters_->malformed.inc();
    return;
  }
  if (video) {
    const auto before = depacketizer_->stats();
    depacketizer_->push(*packet);
    if (counters_) {
      const auto& after = depacketizer_->stats();
      counters_->lost.inc(after.lost_packets - before.lost_packets);
      counters_->malformed.inc(after.bad_packets - before.bad_packets + after.unsupported -
                               before.unsupported);
    }
  } else {
    const auto before = audio_depacketizer_->bad_packets();
    audio_depacketizer_->push(*packet);
    if (counters_) counters_->malformed.inc(audio_depacketizer_->bad_packets() - before);
  }
}

void ServerSession::on_writable() { drain(); }

void ServerSession::drain() {
  if (mode_ != Mode::kPlaying || !subscription_) return;
  if (!connection_.writable()) return;  // resumed by on_writable(); the hub queue absorbs it
  subscription_->queue().drain(drained_);
  for (const auto& frame : drained_) {
    if (frame->track == hub::TrackKind::kAudio) {
      // Audio starts with the first video keyframe, so both begin together.
      if (!waiting_for_keyframe_ && audio_packetizer_) send_audio(*frame);
      continue;
    }
    if (waiting_for_keyframe_ && !frame->keyframe) continue;
    waiting_for_keyframe_ = false;
    send_frame(*frame);
  }
  drained_.clear();
}

void ServerSession::send_interleaved(int channel, std::span<const uint8_t> packet) {
  std::string out;
  out.reserve(4 + packet.size());
  out += '$';
  out += static_cast<char>(channel);
  out += static_cast<char>(packet.size() >> 8);
  out += static_cast<char>(packet.size() & 0xff);
  out.append(reinterpret_cast<const char*>(packet.data()), packet.size());
  connection_.send(std::move(out));
}

void ServerSession::maybe_report(Output& out, int channel, uint32_t ssrc, uint32_t rtp_timestamp,
                                 int64_t received_at_us, uint32_t clock_rate) {
  const int64_t now = now_us();
  if (out.last_report_us != 0 && now - out.last_report_us < 1'000'000) return;
  out.last_report_us = now;
  // One fixed line from RTP time to wall-clock time per track, anchored at the first
  // reported frame's arrival: reports never contradict each other (no jitter), and both
  // tracks are anchored the same way, so a player can line them up.
  if (!out.anchored) {
    const int64_t age_us = received_at_us > 0 ? std::max<int64_t>(0, now - received_at_us) : 0;
    out.anchor_wall_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count() -
                         age_us;
    out.anchor_rtp = rtp_timestamp;
    out.anchored = true;
  }
  const int64_t elapsed_ticks = static_cast<int32_t>(rtp_timestamp - out.anchor_rtp);
  const int64_t wall_us = out.anchor_wall_us + elapsed_ticks * 1'000'000 / clock_rate;
  constexpr uint64_t kNtpToUnixSeconds = 2'208'988'800ULL;
  const uint64_t ntp = ((static_cast<uint64_t>(wall_us / 1'000'000) + kNtpToUnixSeconds) << 32) |
                       ((static_cast<uint64_t>(wall_us % 1'000'000) << 32) / 1'000'000);
  std::vector<uint8_t> report;
  rtp::write_sender_report(report, ssrc, ntp, rtp_timestamp, out.packets, out.octets);
  send_interleaved(channel + 1, report);
}

void ServerSession::send_frame(const hub::Frame& frame) {
  ++stats_.frames_out;
  const auto ts = static_cast<uint32_t>(frame.timestamp) + timestamp_offset_;
  maybe_report(video_out_, play_channel_, packetizer_->ssrc(), ts, frame.received_at_us, 90000);
  packetizer_->packetize(frame.data, ts, [&](std::span<const uint8_t> packet) {
    send_interleaved(play_channel_, packet);
    ++stats_.rtp_packets_out;
    if (counters_) counters_->sent.inc();
    ++video_out_.packets;
    video_out_.octets += static_cast<uint32_t>(packet.size() - 12);
  });
}

void ServerSession::send_audio(const hub::Frame& frame) {
  const auto ts = static_cast<uint32_t>(frame.timestamp) + audio_timestamp_offset_;
  maybe_report(audio_out_, play_audio_channel_, audio_packetizer_->ssrc(), ts, frame.received_at_us,
               audio_clock_rate_);
  audio_packetizer_->packetize(frame.data, ts, [&](std::span<const uint8_t> packet) {
    send_interleaved(play_audio_channel_, packet);
    ++stats_.rtp_packets_out;
    if (counters_) counters_->sent.inc();
    ++audio_out_.packets;
    audio_out_.octets += static_cast<uint32_t>(packet.size() - 12);
  });
}

std::string ServerSession::describe_sdp(const hub::StreamInfo& info) const {
  sdp::Session s;
  s.name = "Nightjar live " + serial_;
  sdp::Media v;
  v.type = "video";
  v.port = 0;
  v.protocol = "RTP/AVP";
  v.payload_type = 96;
  v.encoding = "H264";
  v.clock_rate = 90000;
  v.fmtp["packetization-mode"] = "1";
  if (!info.sps.empty() && !info.pps.empty()) {
    v.fmtp["sprop-parameter-sets"] =
        sdp::base64_encode(info.sps) + "," + sdp::base64_encode(info.pps);
    if (info.sps.size() >= 4) {
      char pli[8];
      std::snprintf(pli, sizeof pli, "%02X%02X%02X", info.sps[1], info.sps[2], info.sps[3]);
      v.fmtp["profile-level-id"] = pli;
    }
  }
  v.control = "trackID=0";
  s.media.push_back(std::move(v));
  if (info.audio_codec == "AAC") {
    sdp::Media a;
    a.type = "audio";
    a.protocol = "RTP/AVP";
    a.payload_type = 97;
    a.encoding = "MPEG4-GENERIC";
    a.clock_rate = info.audio_sample_rate;
    a.channels = info.audio_channels;
    a.fmtp = {{"streamtype", "5"},
              {"profile-level-id", "1"},
              {"mode", "AAC-hbr"},
              {"sizelength", "13"},
              {"indexlength", "3"},
              {"indexdeltalength", "3"},
              {"config", hex_string(info.audio_config)}};
    a.control = "trackID=1";
    s.media.push_back(std::move(a));
  }
  return sdp::write(s);
}

}  // namespace nj::media::rtsp
