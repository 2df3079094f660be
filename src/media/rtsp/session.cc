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

uint32_t random_u32() {
  static thread_local std::mt19937 rng{std::random_device{}()};
  return static_cast<uint32_t>(rng());
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

void Connection::wake(net::Wakeable&, const std::weak_ptr<net::Wakeable>& handle) {
  post([handle] {
    if (auto self = handle.lock()) self->on_wake();
  });
}

std::function<void()> ServerSession::on_revoked() {
  // Runs while the grant lives, so the session and its connection are still there; the
  // closing itself happens on the connection's loop, if the session still is by then.
  return [weak = weak_from_this(), connection = &connection_] {
    connection->post([weak] {
      auto self = weak.lock();
      if (!self) return;
      self->subscription_.reset();  // no more media for a player
      self->connection_.close();    // a pusher's stream ends as the connection does
    });
  };
}

ServerSession::~ServerSession() {
  grant_.reset();  // first: no revocation may arrive while the rest goes
  talk_listener_.reset();
  subscription_.reset();
  if (ingest_ && publisher_) ingest_->flush();
  publisher_.reset();
}

ServerSession::Stats ServerSession::stats() const {
  Stats s;
  if (ingest_) {
    s.rtp_packets_in = ingest_->stats().packets;
    s.bad_rtp_packets = ingest_->stats().bad_packets;
  }
  s.frames_out = frames_out_;
  s.rtp_packets_out = packets_out_;
  return s;
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
    r.set_header("Session", session_id_ + ";timeout=" + std::to_string(session_timeout_s_));
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
    // push/{serial}: the camera's live stream; backlog/{serial}: what it kept while no
    // server took that stream (for the recording only; a push token); sd/{serial}: a
    // recording of its SD card played back (sd.play).
    const bool sd = url->kind == "sd";
    if ((url->kind != "push" && url->kind != "backlog" && !sd) || mode_ != Mode::kNone) {
      respond(req, 455, "Method Not Valid in This State");
      return;
    }
    auto grant =
        auth_.allow(url->serial, sd ? Purpose::kSdPush : Purpose::kPush, url->token, on_revoked());
    if (!grant) {
      respond(req, 401, "Unauthorized");
      return;
    }
    auto sdp = sdp::parse(req.body);
    if (!sdp) {
      respond(req, 400, "Bad Request");
      return;
    }
    auto ingest = Ingest::from_sdp(*sdp);
    if (!ingest) {
      respond(req, 415, "Unsupported Media Type");  // no H.264 video to relay
      return;
    }
    ingest_ = std::move(*ingest);
    grant_ = std::move(grant);
    for (const auto& media : sdp->media) announced_controls_.push_back(media.control);
    serial_ = url->serial;
    publish_path_ = url->kind + "/" + url->serial;
    session_id_ = std::to_string(random_u32()) + std::to_string(random_u32());
    mode_ = Mode::kAnnounced;
    respond(req, 200, "OK");
    return;
  }
  if (m == "DESCRIBE" && url->kind == "talk") {
    describe_talk(req, *url);
    return;
  }
  if (m == "DESCRIBE") {
    if (url->kind != "live") {
      respond(req, 404, "Not Found");
      return;
    }
    auto grant = auth_.allow(url->serial, Purpose::kPlay, url->token, on_revoked());
    if (!grant) {
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
    egress_ = std::make_unique<Egress>(info, [](int, bool, std::span<const uint8_t>) {});
    grant_ = std::move(grant);
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
            egress_->sdp("Nightjar live " + serial_));
    return;
  }
  if (m == "SETUP") {
    const auto transport = parse_transport(req.header("Transport").value_or(""));
    if (!transport) {
      respond(req, 461, "Unsupported Transport");
      return;
    }
    const bool udp = !transport->tcp;
    if (udp && (transport->multicast || !transport->client_port)) {
      respond(req, 461, "Unsupported Transport");  // UDP needs the client's ports
      return;
    }
    if (url->serial != serial_) {
      respond(req, 455, "Method Not Valid in This State");
      return;
    }
    // Over UDP the channel is ours to number: it only names the track's port pair.
    int channel = !udp && transport->interleaved ? transport->interleaved->first : next_channel_;
    if (channel < 0 || channel > 254) {
      respond(req, 461, "Unsupported Transport");
      return;
    }
    next_channel_ = channel + 2;
    std::optional<std::pair<int, int>> server_ports;
    if (udp) {
      server_ports = connection_.open_udp(channel, *transport->client_port);
      if (!server_ports) {
        respond(req, 461, "Unsupported Transport");  // clients retry over TCP
        return;
      }
      if (udp_channels_.size() < static_cast<size_t>(channel) + 2) {
        udp_channels_.resize(channel + 2, false);
      }
      udp_channels_[channel] = udp_channels_[channel + 1] = true;
    }
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
      if (channel >= 0 && channel < 256) {
        if (channel_tracks_.size() <= static_cast<size_t>(channel)) {
          channel_tracks_.resize(channel + 1, -1);
        }
        channel_tracks_[channel] = index;
      }
      if (udp) ingest_->enable_reordering();
    } else if (mode_ == Mode::kTalkDescribed) {
      if (udp || url->track != "trackID=0") {  // talk goes over the connection only
        respond(req, udp ? 461 : 404, udp ? "Unsupported Transport" : "Not Found");
        return;
      }
      talk_channel_ = channel;
    } else if (mode_ == Mode::kDescribed) {
      if (url->track == "trackID=0") {
        play_channels_[0] = channel;
      } else if (url->track == "trackID=1" && egress_->has_audio()) {
        play_channels_[1] = channel;
      } else {
        respond(req, 404, "Not Found");
        return;
      }
    } else {
      respond(req, 455, "Method Not Valid in This State");
      return;
    }
    Transport reply = *transport;
    if (udp) {
      reply.server_port = server_ports;
    } else {
      reply.interleaved = std::make_pair(channel, channel + 1);
    }
    respond(req, 200, "OK", {{"Transport", format_transport(reply)}});
    return;
  }
  if (m == "RECORD") {
    const bool video_set_up =
        std::find(channel_tracks_.begin(), channel_tracks_.end(),
                  ingest_ ? ingest_->video_track() : -2) != channel_tracks_.end();
    if (mode_ != Mode::kAnnounced || !video_set_up) {
      respond(req, 455, "Method Not Valid in This State");
      return;
    }
    auto publisher = hub_.publish(publish_path_, ingest_->info());
    if (!publisher) {
      respond(req, 453, "Not Enough Bandwidth");  // another session already pushes this device
      return;
    }
    publisher_ = std::move(*publisher);
    ingest_->start(
        [this](const hub::FramePtr& frame) {
          // Cut off by the hub (the device was unbound): stop taking its media at once. The
          // answer comes with the publish itself, under the lock it takes anyway.
          if (!publisher_->publish(frame)) connection_.close();
        },
        [this](const hub::StreamInfo& info) { publisher_->update_info(info); }, counters_);
    mode_ = Mode::kRecording;
    respond(req, 200, "OK");
    return;
  }
  if (m == "PLAY" && (mode_ == Mode::kTalkDescribed || mode_ == Mode::kTalking)) {
    play_talk(req);
    return;
  }
  if (m == "PLAY") {
    if (mode_ != Mode::kDescribed && mode_ != Mode::kPlaying) {
      respond(req, 455, "Method Not Valid in This State");
      return;
    }
    if (!subscription_) {
      // While the subscription lives, so does this session (its destructor ends it first).
      std::weak_ptr<net::Wakeable> handle = weak_from_this();
      auto sub = hub_.subscribe(
          "push/" + serial_, [handle, this] { connection_.wake(*this, handle); },
          hub::Packaging::kRtp);
      if (!sub) {
        respond(req, 404, "Not Found");
        return;
      }
      subscription_ = std::move(*sub);
      video_begun_ = false;
      audio_from_ntp_.reset();
      play_started_us_ = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
    }
    // The stream's packets are shared: RTP-Info tells the player the sequence number and
    // time its first packet of each track will carry, so look at the queue first. Both
    // tracks start at the first keyframe's instant: its audio RTP time is the audio's
    // rtptime, whether or not an audio frame is queued yet, and audio from before it is
    // skipped (drain()).
    subscription_->queue().drain(drained_);
    const RtpPackets* video = nullptr;
    const RtpPackets* audio = nullptr;
    for (const auto& f : drained_) {
      const auto* p = dynamic_cast<const RtpPackets*>(f->packaged(hub::Packaging::kRtp).get());
      if (!p || !p->interleaved) continue;
      if (f->track == hub::TrackKind::kVideo) {
        if (!video) video = p;
      } else if (video && !audio && static_cast<int64_t>(p->ntp - video->ntp) >= 0) {
        audio = p;
      }
    }
    if (video && !video_begun_) audio_from_ntp_ = video->ntp;
    std::string base_url = req.uri.substr(0, req.uri.find('?'));
    while (base_url.ends_with('/')) base_url.pop_back();
    std::string rtp_info;
    auto add_rtp_info = [&](int track, std::optional<uint16_t> seq,
                            std::optional<uint32_t> rtptime) {
      if (play_channels_[track] < 0 || (!seq && !rtptime)) return;
      if (!rtp_info.empty()) rtp_info += ',';
      rtp_info += "url=" + base_url + "/trackID=" + std::to_string(track);
      if (seq) rtp_info += ";seq=" + std::to_string(*seq);
      if (rtptime) rtp_info += ";rtptime=" + std::to_string(*rtptime);
    };
    if (video) {
      add_rtp_info(0, video->first_sequence, video->rtp_timestamp);
      add_rtp_info(1, audio ? std::optional<uint16_t>(audio->first_sequence) : std::nullopt,
                   video->audio_rtp_timestamp
                       ? video->audio_rtp_timestamp
                       : (audio ? std::optional<uint32_t>(audio->rtp_timestamp) : std::nullopt));
    }
    mode_ = Mode::kPlaying;
    std::vector<std::pair<std::string, std::string>> headers = {{"Range", "npt=0.000-"}};
    if (!rtp_info.empty()) headers.emplace_back("RTP-Info", rtp_info);
    respond(req, 200, "OK", headers);
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
  if (channel % 2 == 1) {  // RTCP of a track: its sender reports place frames in time
    const size_t rtp_channel = channel - 1u;
    if (rtp_channel < channel_tracks_.size() && channel_tracks_[rtp_channel] >= 0) {
      ingest_->push_rtcp(channel_tracks_[rtp_channel], payload);
    }
    return;
  }
  if (channel >= channel_tracks_.size() || channel_tracks_[channel] < 0) return;
  ingest_->push(channel_tracks_[channel], payload);
}

void ServerSession::on_udp(int channel, std::span<const uint8_t> datagram) {
  if (channel < 0 || channel > 255) return;
  on_frame_rtp(static_cast<uint8_t>(channel), datagram);
}

void ServerSession::drain() {
  if (mode_ != Mode::kPlaying || !subscription_) return;
  if (counters_) {  // what the hub queue dropped for this slow player since last time
    const uint64_t dropped = subscription_->queue().dropped_frames();
    counters_->viewer_dropped_frames.inc(dropped - dropped_reported_);
    dropped_reported_ = dropped;
  }
  if (!connection_.writable()) return;  // resumed by on_writable(); the hub queue absorbs it
  subscription_->queue().drain(drained_);
  // Each frame's packets were made once for every player of the stream (RtpPackets). A TCP
  // player on the usual channels (0/1 video, 2/3 audio) gets those very bytes, without a
  // copy; others get them packet by packet, on their own channels or UDP ports.
  const bool shared =
      play_channels_[0] == 0 && (play_channels_[1] < 0 || play_channels_[1] == 2) &&
      (udp_channels_.empty() ||
       std::find(udp_channels_.begin(), udp_channels_.end(), true) == udp_channels_.end());
  connection_.hold();  // the whole drain in one write
  for (const auto& frame : drained_) {
    const auto* p = dynamic_cast<const RtpPackets*>(frame->packaged(hub::Packaging::kRtp).get());
    if (!p || !p->interleaved) continue;
    const int track = frame->track == hub::TrackKind::kVideo ? 0 : 1;
    if (track == 0 && !video_begun_) {
      video_begun_ = true;  // the keyframe the player starts at
      if (!audio_from_ntp_) audio_from_ntp_ = p->ntp;
    }
    if (track == 1) {
      if (!video_begun_) continue;
      if (audio_from_ntp_) {
        if (static_cast<int64_t>(p->ntp - *audio_from_ntp_) < 0) continue;
        audio_from_ntp_.reset();  // audio from here on comes in order
      }
    }
    if (play_channels_[track] < 0) continue;  // a track the player did not set up
    if (shared) {
      flush_outgoing();  // keeps the order with anything gathered before
      connection_.send_shared(p->interleaved);
    } else {
      p->for_each([this](int channel, std::span<const uint8_t> packet) {
        const int out = play_channels_[channel / 2];
        if (out >= 0) send_interleaved(out + channel % 2, packet);
      });
      if (outgoing_.size() >= 64 * 1024) flush_outgoing();
    }
    packets_out_ += p->packets;
    if (track == 0) ++frames_out_;
    if (counters_) {
      counters_->sent.inc(p->packets);
      // Live frames only, not the cached GOP the player started with.
      if (track == 0 && frame->received_at_us >= play_started_us_) {
        relayed_at_us_.push_back(frame->received_at_us);
      }
    }
  }
  flush_outgoing();
  connection_.release();
  if (!relayed_at_us_.empty()) {  // the relay delay runs until the frames were written
    const int64_t now_us = steady_now_us();
    for (const int64_t at : relayed_at_us_) {
      counters_->relay_delay.observe(static_cast<double>(now_us - at) / 1e6);
    }
    relayed_at_us_.clear();
  }
  drained_.clear();
  if (subscription_->queue().ended()) {
    // The pusher is gone: end the session, as a camera's own server would, so the player
    // knows at once instead of waiting for a timeout.
    subscription_.reset();
    connection_.close();
  }
}

void ServerSession::send_interleaved(int channel, std::span<const uint8_t> packet) {
  if (static_cast<size_t>(channel) < udp_channels_.size() && udp_channels_[channel]) {
    connection_.send_udp(channel, packet);
    return;
  }
  outgoing_ += '$';
  outgoing_ += static_cast<char>(channel);
  outgoing_ += static_cast<char>(packet.size() >> 8);
  outgoing_ += static_cast<char>(packet.size() & 0xff);
  outgoing_.append(reinterpret_cast<const char*>(packet.data()), packet.size());
}

void ServerSession::describe_talk(const Message& req, const StreamUrl& url) {
  if (!talk_ || mode_ != Mode::kNone) {
    respond(req, talk_ ? 455 : 404, talk_ ? "Method Not Valid in This State" : "Not Found");
    return;
  }
  auto grant = auth_.allow(url.serial, Purpose::kTalk, url.token, on_revoked());
  if (!grant) {
    respond(req, 401, "Unauthorized");
    return;
  }
  const auto format = talk_->format(url.serial);
  if (!format) {
    respond(req, 404, "Not Found");  // no one is talking to this camera
    return;
  }
  grant_ = std::move(grant);
  serial_ = url.serial;
  session_id_ = std::to_string(random_u32()) + std::to_string(random_u32());
  mode_ = Mode::kTalkDescribed;
  sdp::Session s;
  s.name = "Nightjar talk " + serial_;
  sdp::Media a;
  a.type = "audio";
  a.protocol = "RTP/AVP";
  a.payload_type = format->payload_type;
  a.encoding = format->encoding;
  a.clock_rate = format->clock_rate;
  a.channels = 1;
  a.control = "trackID=0";
  s.media.push_back(std::move(a));
  std::string base = req.uri.substr(0, req.uri.find('?'));
  if (!base.ends_with('/')) base += '/';
  respond(req, 200, "OK", {{"Content-Type", "application/sdp"}, {"Content-Base", base}},
          sdp::write(s));
}

void ServerSession::play_talk(const Message& req) {
  if (talk_channel_ < 0) {
    respond(req, 455, "Method Not Valid in This State");  // SETUP first
    return;
  }
  if (!talk_listener_) {
    std::weak_ptr<ServerSession> weak = weak_from_this();
    Connection& connection = connection_;
    const int channel = talk_channel_;
    // Called under the line's lock, which the listener's destructor (on this session's
    // loop, or at its end) also takes: `connection` outlives every call.
    talk_listener_ = talk_->listen(
        serial_,
        [weak, &connection, channel](std::shared_ptr<const std::vector<uint8_t>> packet) {
          connection.post([weak, channel, packet = std::move(packet)] {
            if (auto self = weak.lock()) {
              self->send_interleaved(channel, *packet);
              self->flush_outgoing();
            }
          });
        },
        [weak, &connection] {
          connection.post([weak] {
            if (auto self = weak.lock()) self->connection_.close();
          });
        });
    if (!talk_listener_) {
      respond(req, 404, "Not Found");  // the call ended between DESCRIBE and PLAY
      return;
    }
  }
  mode_ = Mode::kTalking;
  respond(req, 200, "OK");
}

void ServerSession::flush_outgoing() {
  if (outgoing_.empty()) return;
  connection_.send(std::move(outgoing_));
  outgoing_ = std::string();
}

}  // namespace nj::media::rtsp
