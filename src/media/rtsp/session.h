// One RTSP connection on the server side, without the network: requests in, responses and
// interleaved RTP out through a Connection. A camera pushes (ANNOUNCE, SETUP, RECORD on
// push/{serial}) into the hub; a player pulls (DESCRIBE, SETUP, PLAY on live/{serial}) from
// it. RTP over TCP (interleaved) only for now; H.264 video and AAC audio (other audio
// tracks are accepted and dropped).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "media/hub/hub.h"
#include "media/rtp/aac.h"
#include "media/rtp/h264.h"
#include "media/rtsp/message.h"
#include "metrics/registry.h"

namespace nj::media::rtsp {

enum class Purpose { kPush, kPlay };

// May this token push to, or play, the stream of this serial?
class Authorizer {
 public:
  virtual ~Authorizer() = default;
  virtual bool allow(std::string_view serial, Purpose purpose, std::string_view token) = 0;
};

// The network side of one connection, provided by the server.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual void send(std::string bytes) = 0;
  // Runs fn on the connection's event loop (callable from any thread).
  virtual void post(std::function<void()> fn) = 0;
  // True while the send queue is short enough to take more media.
  virtual bool writable() const = 0;
  // Closes after what was sent so far has been written.
  virtual void close() = 0;
};

// The parts of an rtsp:// URL that matter here: "push/CAM1", the token, and a track
// control appended by the client ("streamid=0", "trackID=0").
struct StreamUrl {
  std::string kind;  // push | live
  std::string serial;
  std::string token;
  std::string track;
};
std::optional<StreamUrl> parse_stream_url(std::string_view uri);

// Process-wide RTP counters, shared by every session (Prometheus, via metrics::Registry).
struct RtpCounters {
  metrics::Counter& received;
  metrics::Counter& lost;       // gaps in the pushers' sequence numbers
  metrics::Counter& malformed;  // packets or payloads that could not be parsed
  metrics::Counter& sent;
  static RtpCounters in(metrics::Registry& registry);
};

class ServerSession : public std::enable_shared_from_this<ServerSession> {
 public:
  ServerSession(hub::Hub& hub, Authorizer& auth, Connection& connection,
                const RtpCounters* counters = nullptr)
      : hub_(hub), auth_(auth), connection_(connection), counters_(counters) {}
  ~ServerSession();

  // Feeds received bytes; returns how many were used (the rest waits for more), or an
  // error after which the connection must close.
  Result<size_t, Error> feed(std::span<const uint8_t> data);
  // The connection can take more media again.
  void on_writable();

  struct Stats {
    uint64_t rtp_packets_in = 0, bad_rtp_packets = 0, frames_out = 0, rtp_packets_out = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  void handle(const Message& request);
  void respond(const Message& request, int status, std::string_view reason,
               const std::vector<std::pair<std::string, std::string>>& headers = {},
               std::string body = {});
  void on_frame_rtp(uint8_t channel, std::span<const uint8_t> payload);
  void drain();
  void send_frame(const hub::Frame& frame);
  void send_audio(const hub::Frame& frame);
  void send_interleaved(int channel, std::span<const uint8_t> packet);
  // Per output track: counts for RTCP sender reports, sent about once a second.
  struct Output {
    uint32_t packets = 0, octets = 0;
    int64_t last_report_us = 0;
    bool anchored = false;
    int64_t anchor_wall_us = 0;
    uint32_t anchor_rtp = 0;
  };
  void maybe_report(Output& out, int channel, uint32_t ssrc, uint32_t rtp_timestamp,
                    int64_t received_at_us, uint32_t clock_rate);
  uint32_t audio_clock_rate_ = 48000;
  Output video_out_, audio_out_;
  std::string describe_sdp(const hub::StreamInfo& info) const;

  hub::Hub& hub_;
  Authorizer& auth_;
  Connection& connection_;
  const RtpCounters* counters_;
  std::string session_id_;
  enum class Mode { kNone, kAnnounced, kRecording, kDescribed, kPlaying } mode_ = Mode::kNone;
  std::string serial_;

  // Push side.
  hub::StreamInfo announced_;
  std::vector<std::string> announced_controls_;  // per media section
  int video_track_ = -1;
  int video_channel_ = -1;
  int audio_track_ = -1;
  int audio_channel_ = -1;
  int next_channel_ = 0;
  std::unique_ptr<rtp::H264Depacketizer> depacketizer_;
  std::unique_ptr<rtp::AacDepacketizer> audio_depacketizer_;
  std::unique_ptr<hub::Publisher> publisher_;

  // Play side.
  std::unique_ptr<hub::Subscription> subscription_;
  std::unique_ptr<rtp::H264Packetizer> packetizer_;
  std::unique_ptr<rtp::AacPacketizer> audio_packetizer_;
  int play_channel_ = 0;
  int play_audio_channel_ = -1;
  uint32_t timestamp_offset_ = 0;
  uint32_t audio_timestamp_offset_ = 0;
  bool waiting_for_keyframe_ = true;
  bool has_play_audio_ = false;
  std::vector<hub::FramePtr> drained_;

  Stats stats_;
};

}  // namespace nj::media::rtsp
