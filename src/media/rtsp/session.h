// One RTSP connection on the server side, without the network: requests in, responses and
// interleaved RTP out through a Connection. A camera pushes (ANNOUNCE, SETUP, RECORD on
// push/{serial}) into the hub; a player pulls (DESCRIBE, SETUP, PLAY on live/{serial}) from
// it; a camera plays what is said to it (DESCRIBE, SETUP, PLAY on talk/{serial}: one audio
// track from the TalkLines, over the TCP connection only). RTP interleaved over the TCP connection,
// or over UDP when the client asks; the tracks relayed are those of tracks.h.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "media/hub/hub.h"
#include "media/rtsp/message.h"
#include "media/rtsp/tracks.h"
#include "net/wakeable.h"

namespace nj::media::rtsp {

enum class Purpose { kPush, kPlay, kSdPush, kTalk };

// What a session keeps while it pushes or plays on an access it was given (the server's
// authorizer ties it to whoever the token was for).
class AccessGrant {
 public:
  virtual ~AccessGrant() = default;
};

// May this token push to, or play, the stream of this serial? nullptr: no. Otherwise the
// grant is kept by the session for as long as it lasts; `revoked` may be called from any
// thread while the grant lives, when the access behind it ends, and closes the session.
class Authorizer {
 public:
  virtual ~Authorizer() = default;
  virtual std::unique_ptr<AccessGrant> allow(std::string_view serial, Purpose purpose,
                                             std::string_view token,
                                             std::function<void()> revoked) = 0;
};

// Talk audio on its way to cameras: a person speaks through the app, and the camera plays
// talk/{serial}. Implemented by the server's talk service.
class TalkLines {
 public:
  struct Format {
    std::string encoding;  // as in SDP: "PCMU"
    uint32_t clock_rate = 8000;
    uint8_t payload_type = 0;
  };
  // Detaches when destroyed: once the destructor returns, no callback of it runs again.
  class Listener {
   public:
    virtual ~Listener() = default;
  };
  virtual ~TalkLines() = default;
  // What someone is saying to this camera now, or nullopt when no one is.
  virtual std::optional<Format> format(std::string_view serial) = 0;
  // The camera's session listens: `packet` gets each RTP packet of the line and `ended`
  // (once) tells the call is over; both may run on any thread and must not block. nullptr
  // when no one is talking to the camera.
  virtual std::unique_ptr<Listener> listen(
      std::string_view serial,
      std::function<void(std::shared_ptr<const std::vector<uint8_t>> packet)> packet,
      std::function<void()> ended) = 0;
};

// The network side of one connection, provided by the server.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual void send(std::string bytes) = 0;
  // Bytes shared with other connections (the same RTP packets for every player): sent
  // without a copy where the connection can.
  virtual void send_shared(const std::shared_ptr<const std::vector<uint8_t>>& bytes) {
    send(std::string(bytes->begin(), bytes->end()));
  }
  // Runs fn on the connection's event loop (callable from any thread).
  virtual void post(std::function<void()> fn) = 0;
  // Has session.on_wake() run on the connection's loop soon, unless `handle` (the same
  // session's) has expired by then. Callable from any thread: the hub wakes a player on its
  // publisher's thread. One frame wakes every player of its stream at once; where the
  // connection can, the players of one loop are then run by one handler there
  // (net/loop_wakes.h).
  virtual void wake(net::Wakeable& session, const std::weak_ptr<net::Wakeable>& handle);
  // Between hold() and release(), sends are gathered instead of scheduled; release() then
  // writes them at once where the connection can (one system call for a player's drain,
  // no handler on the loop). Calls nest; the loop thread only.
  virtual void hold() {}
  virtual void release() {}
  // True while the send queue is short enough to take more media.
  virtual bool writable() const = 0;
  // Closes after what was sent so far has been written.
  virtual void close() = 0;
  // RTP over UDP for one track: opens the server's RTP/RTCP port pair; datagrams that the
  // client's address sends to them come back through ServerSession::on_udp as `channel`
  // (RTP) and `channel + 1` (RTCP); send_udp goes to the client's ports. Returns the server's
  // ports, or nullopt when UDP is not available (the client is then told 461).
  virtual std::optional<std::pair<int, int>> open_udp(int channel,
                                                      std::pair<int, int> client_ports) {
    (void)channel;
    (void)client_ports;
    return std::nullopt;
  }
  virtual void send_udp(int channel, std::span<const uint8_t> packet) {
    (void)channel;
    (void)packet;
  }
};

// The parts of an rtsp:// URL that matter here: "push/CAM1", the token, and a track
// control appended by the client ("streamid=0", "trackID=0").
struct StreamUrl {
  std::string kind;  // push | live | sd | talk
  std::string serial;
  std::string token;
  std::string track;
};
std::optional<StreamUrl> parse_stream_url(std::string_view uri);

class ServerSession : public net::Wakeable, public std::enable_shared_from_this<ServerSession> {
 public:
  // session_timeout_s: announced in the Session header; clients keep the session alive
  // (GET_PARAMETER, RTCP) well within it, so it must match the server's idle timeout.
  ServerSession(hub::Hub& hub, Authorizer& auth, Connection& connection,
                const RtpCounters* counters = nullptr, int session_timeout_s = 60)
      : hub_(hub),
        auth_(auth),
        connection_(connection),
        counters_(counters),
        session_timeout_s_(session_timeout_s) {}
  ~ServerSession();
  // Where talk/{serial} comes from (none: talk is not served). Set before the first request.
  void set_talk(TalkLines* talk) { talk_ = talk; }

  // Feeds received bytes; returns how many were used (the rest waits for more), or an
  // error after which the connection must close.
  Result<size_t, Error> feed(std::span<const uint8_t> data);
  // The hub queued frames for this player (Connection::wake).
  void on_wake() override { drain(); }
  // The connection can take more media again.
  void on_writable() { drain(); }
  // A datagram on a UDP port opened for `channel` (see Connection::open_udp).
  void on_udp(int channel, std::span<const uint8_t> datagram);

  struct Stats {
    uint64_t rtp_packets_in = 0, bad_rtp_packets = 0, frames_out = 0, rtp_packets_out = 0;
  };
  Stats stats() const;

 private:
  void handle(const Message& request);
  void respond(const Message& request, int status, std::string_view reason,
               const std::vector<std::pair<std::string, std::string>>& headers = {},
               std::string body = {});
  void on_frame_rtp(uint8_t channel, std::span<const uint8_t> payload);
  void drain();
  // Over UDP at once, or gathered in outgoing_ until flush_outgoing() sends it.
  void send_interleaved(int channel, std::span<const uint8_t> packet);
  void flush_outgoing();

  // Closes the connection, on its loop, when the access it was opened with ends.
  std::function<void()> on_revoked();

  hub::Hub& hub_;
  Authorizer& auth_;
  std::unique_ptr<AccessGrant> grant_;  // the push's or the play's, once allowed
  Connection& connection_;
  const RtpCounters* counters_;
  int session_timeout_s_;
  std::string session_id_;
  enum class Mode {
    kNone,
    kAnnounced,
    kRecording,
    kDescribed,
    kPlaying,
    kTalkDescribed,
    kTalking
  } mode_ = Mode::kNone;
  std::string serial_;
  std::string publish_path_;  // push/{serial} or sd/{serial}

  // Push side.
  std::unique_ptr<Ingest> ingest_;
  std::vector<std::string> announced_controls_;  // per media section
  std::vector<int> channel_tracks_;              // interleaved channel → media section
  std::vector<bool> udp_channels_;               // channels carried over UDP
  int next_channel_ = 0;
  std::unique_ptr<hub::Publisher> publisher_;

  // Play side.
  std::unique_ptr<hub::Subscription> subscription_;
  std::unique_ptr<Egress> egress_;   // describes the tracks (SDP); the packets are shared
  int play_channels_[2] = {-1, -1};  // video, audio
  int64_t play_started_us_ = 0;
  // A player starts with video, at a keyframe, and its audio from that keyframe's instant:
  // audio made before it is not sent, so its timestamps never step back (RTP-Info).
  bool video_begun_ = false;
  std::optional<uint64_t> audio_from_ntp_;
  uint64_t frames_out_ = 0, packets_out_ = 0;  // video frames, RTP packets
  uint64_t dropped_reported_ = 0;
  std::vector<hub::FramePtr> drained_;
  std::vector<int64_t> relayed_at_us_;  // arrival of the live video frames a drain wrote
  std::string outgoing_;                // interleaved packets gathered (send_interleaved)

  // Talk side (a camera playing talk/{serial}).
  void describe_talk(const Message& req, const StreamUrl& url);
  void play_talk(const Message& req);
  TalkLines* talk_ = nullptr;
  std::unique_ptr<TalkLines::Listener> talk_listener_;
  int talk_channel_ = -1;
};

}  // namespace nj::media::rtsp
