// RTSP clients on the event loops. A ClientLink runs one ClientSession over a TCP
// connection; a Puller keeps an IP camera's stream published in the hub, reconnecting with
// backoff; a Pusher sends a hub stream to an RTSP server (the device agent's way out).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "media/hub/hub.h"
#include "media/rtsp/client.h"
#include "media/rtsp/tracks.h"
#include "net/io_pool.h"

namespace nj::media::rtsp {

struct LinkHooks {
  std::function<std::vector<int>(const sdp::Session&)> described;  // play
  std::function<void()> ready;
  std::function<void(int track, bool rtcp, std::span<const uint8_t> packet)> media;  // play
  std::function<void()> writable;  // the send queue drained below its limit again
  std::function<void(const std::string& why)> closed;  // once, at the end, for any reason
};

struct LinkOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds response_timeout{10'000};  // for each request before streaming
  std::chrono::milliseconds media_timeout{10'000};     // playing, and no packet came
  size_t send_queue_bytes = 2 * 1024 * 1024;
  size_t receive_buffer_bytes = 256 * 1024;
  // RTP over UDP port pairs instead of the TCP connection (lower delay on a LAN, but no
  // retransmission); a server that refuses it is asked again for TCP.
  bool udp = false;
  // A feature the server must understand, sent as Require on every request: the ONVIF
  // audio back-channel ("www.onvif.org/ver20/backchannel") for talking to a camera.
  std::string require;
  std::string play_range = "npt=0.000-";  // ClientSession::play_range
};

class ClientLink {
 public:
  static std::shared_ptr<ClientLink> open(net::IoPool& pool, ClientUrl url,
                                          ClientSession::Mode mode, LinkHooks hooks,
                                          std::string announce_sdp = {}, LinkOptions options = {});
  virtual ~ClientLink() = default;
  // Runs fn on the link's loop; the functions below must be called there.
  virtual void post(std::function<void()> fn) = 0;
  virtual void send_media(int track, bool rtcp, std::span<const uint8_t> packet) = 0;
  virtual bool writable() const = 0;
  // Media goes over UDP (asked for, and the server agreed). Known once `ready` is called.
  virtual bool udp() const = 0;
  // Sends TEARDOWN and closes (callable from any thread); `closed` follows.
  virtual void close() = 0;
};

struct Backoff {
  std::chrono::milliseconds initial{500};
  std::chrono::milliseconds max{30'000};
};

struct PullOptions {
  std::string url;   // rtsp://user:pass@camera/…
  std::string path;  // the hub path to publish on: push/{serial}
  Backoff backoff;
  LinkOptions link;
};

// Keeps pulling until destroyed: connect, DESCRIBE, SETUP the video (and audio) tracks,
// PLAY, publish; after any failure or end, wait (doubling, with jitter) and try again.
// Destroy it (and a Pusher) from outside the pool's threads while the pool still runs: the
// destructor waits for its loop to stop the relay and unpublish.
class Puller {
 public:
  struct Status {
    bool streaming = false;
    bool udp = false;  // the media of the current connection come over UDP
    uint64_t attempts = 0, frames = 0;
    std::string last_error;
  };
  Puller(net::IoPool& pool, hub::Hub& hub, PullOptions options,
         const RtpCounters* counters = nullptr);
  ~Puller();
  Status status() const;
  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// What a pusher keeps while it has no server (issue #17): the media the server never
// recorded (from the keyframe of the GOP in flight when the connection broke), sent on the
// next connection to the backlog URL (the push URL with /push/ made /backlog/) while the live
// stream goes on from its latest keyframe. Whole GOPs are dropped from the front past either
// bound. Zero seconds: nothing is kept.
struct BacklogLimits {
  std::chrono::seconds max_age{0};
  size_t max_bytes = 8 * 1024 * 1024;
};

struct PushOptions {
  std::string url;   // rtsp://server/push/{serial}?token=…
  std::string path;  // the hub stream to send
  Backoff backoff;
  LinkOptions link;
  BacklogLimits backlog;
};

// Keeps pushing a hub stream until destroyed, reconnecting like the Puller. Waits for the
// stream to exist; starts each connection at a keyframe.
class Pusher {
 public:
  struct Status {
    bool streaming = false;
    bool udp = false;  // the media of the current connection come over UDP
    uint64_t attempts = 0, frames = 0;
    uint64_t bytes = 0;  // media bytes sent (the frames' payload), over all connections
    std::string last_error;
    // Backlogs: sent whole, and frames of them sent, dropped (past a bound) or lost (their
    // connection failed).
    uint64_t backlogs_sent = 0, backlog_frames = 0, backlog_dropped = 0, backlog_lost = 0;
    uint64_t moves = 0;  // to another server, made before the old connection was broken
  };
  Pusher(net::IoPool& pool, hub::Hub& hub, PushOptions options);
  ~Pusher();
  // Pushes to another URL from now on (the camera moved to another node). While streaming,
  // the new server is reached first and the stream moves to it at the next keyframe: the old
  // server gets every frame before it, the new one every frame from it. If the new one
  // cannot be reached, or before streaming, the connection in hand ends and what the old
  // one did not get goes to the new one as a backlog. The same server and path with another
  // token only changes what the next connection presents.
  void retarget(std::string url);
  Status status() const;
  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace nj::media::rtsp
