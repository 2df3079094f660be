// One RTSP connection on the client side, without the network: it plays a stream (OPTIONS,
// DESCRIBE, SETUP per track, PLAY) or pushes one (OPTIONS, ANNOUNCE, SETUP, RECORD), with
// RTP interleaved over the TCP connection or over UDP port pairs, answering Basic or Digest
// challenges with the URL's credentials. Used to pull from IP cameras, by the device agent to push,
// and by the load tool.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "media/rtsp/auth.h"
#include "media/rtsp/message.h"
#include "media/sdp/sdp.h"

namespace nj::media::rtsp {

struct ClientUrl {
  std::string host;  // a name, an IPv4 address or an IPv6 address without brackets
  uint16_t port = 554;
  std::string user, password;  // percent-decoded
  std::string path = "/";      // path and query, as sent
  // rtsp://host:port/path, without the credentials (what goes into requests and logs).
  std::string request_url() const;
};
Result<ClientUrl, std::string> parse_client_url(std::string_view url);

class ClientSession {
 public:
  enum class Mode { kPlay, kPush };
  enum class State { kIdle, kStarting, kStreaming, kClosed, kFailed };

  struct Handlers {
    std::function<void(std::string bytes)> send;
    // Play: the stream's SDP; returns the media sections to set up (none: give up).
    std::function<std::vector<int>(const sdp::Session&)> described;
    // PLAY or RECORD was accepted: media flows from now on.
    std::function<void()> ready;
    // Play: one RTP (or RTCP) packet of media section `track`.
    std::function<void(int track, bool rtcp, std::span<const uint8_t> packet)> media;
    // The session cannot go on (a refusal, a protocol error); the connection should close.
    std::function<void(const std::string& why)> failed;
  };

  // For RTP over UDP (see use_udp).
  struct UdpHandlers {
    // Opens a local RTP/RTCP port pair for the `slot`-th SETUP and returns its ports;
    // nullopt falls back to TCP interleaved.
    std::function<std::optional<std::pair<int, int>>(int slot)> open_udp;
    // The server's port pair for that slot and the media section it carries: datagrams
    // from the server to the slot's ports are media of `track` (pass them to `media`).
    std::function<void(int slot, int track, std::pair<int, int> server_ports)> udp_peer;
    // Sends a datagram from the slot's RTP (or RTCP) port to the server's.
    std::function<void(int slot, bool rtcp, std::span<const uint8_t> packet)> send_datagram;
  };

  // announce_sdp: the SDP to ANNOUNCE when pushing (its media sections are set up in order).
  ClientSession(ClientUrl url, Mode mode, Handlers handlers, std::string announce_sdp = {});

  // Asks for RTP over UDP (before start). A server that refuses it (461) on the first SETUP
  // is asked again for TCP interleaved, as players do.
  void use_udp(UdpHandlers handlers) {
    udp_handlers_ = std::move(handlers);
    udp_ = true;
  }
  bool udp() const { return udp_; }
  // A feature tag sent as Require on every request (before start): the ONVIF audio
  // back-channel, whose SDP then has an a=sendonly section the client sends to with
  // send_media after PLAY.
  void require(std::string tag) { require_ = std::move(tag); }
  // The Range of PLAY ("npt=0.000-", as players send), or none if empty: a live camera's
  // back-channel session asks for no position (GStreamer's ONVIF server fails the seek a
  // Range asks for once its back-channel and video are set up together).
  void play_range(std::string range) { play_range_ = std::move(range); }
  void start();
  // Bytes from the server; returns how many were used, or an error (close the connection).
  Result<size_t, Error> feed(std::span<const uint8_t> data);
  // Sends a packet of media section `track` (after ready): pushing, or on a play session's
  // back-channel.
  void send_media(int track, bool rtcp, std::span<const uint8_t> packet);
  // Keeps the session alive (GET_PARAMETER if the server has it, else OPTIONS).
  void keepalive();
  void teardown();

  State state() const { return state_; }
  // The server's session timeout (default 60 s); keep-alives go at about half of it.
  int timeout_seconds() const { return timeout_seconds_; }
  const std::string& last_error() const { return last_error_; }

 private:
  using Headers = std::vector<std::pair<std::string, std::string>>;
  struct Pending {
    std::string method, uri;
    Headers headers;
    std::string body;
    bool authorized = false;  // sent with credentials after a challenge
    static Pending make(std::string method, std::string uri, Headers headers = {},
                        std::string body = {}) {
      Pending p;
      p.method = std::move(method);
      p.uri = std::move(uri);
      p.headers = std::move(headers);
      p.body = std::move(body);
      return p;
    }
  };
  void send_request(Pending request);
  void on_response(const Message& response);
  void setup_next();
  void fail(std::string why);
  std::string control_url(const std::string& control) const;

  ClientUrl url_;
  std::string require_;
  std::string play_range_ = "npt=0.000-";
  Mode mode_;
  Handlers handlers_;
  std::string announce_sdp_;
  Credentials credentials_;
  State state_ = State::kIdle;
  int cseq_ = 0;
  std::optional<Pending> in_flight_;  // one request at a time, so responses match
  std::string session_;
  int timeout_seconds_ = 60;
  bool has_get_parameter_ = false;
  std::string base_url_;
  std::vector<std::string> controls_;  // per media section
  std::vector<int> to_setup_;
  size_t setup_index_ = 0;
  UdpHandlers udp_handlers_;
  bool udp_ = false;
  std::vector<int> channel_tracks_;  // slot (interleaved channel / 2) → media section
  std::string last_error_;
};

}  // namespace nj::media::rtsp
