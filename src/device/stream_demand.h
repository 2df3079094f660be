// On-demand streaming: a camera pushes only while someone watches. Opening live view asks
// the device (stream.start) to push to push/{serial} with a one-purpose token; once nobody
// has watched for a grace period, the device is told to stop (stream.stop). Playing a
// recording of its SD card works the same way on sd/{serial} (sd.play, sd.stop), one at a
// time per device.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "device/broker_link.h"
#include "device/stream_access.h"
#include "media/hub/hub.h"

namespace nj::device {

struct StreamDemandOptions {
  std::string rtsp_base;                            // rtsp://host:port, as devices reach the server
  std::chrono::milliseconds start_timeout{10'000};  // for the device to answer and publish
  std::chrono::milliseconds idle_grace{30'000};     // no viewer this long: stop
  std::chrono::milliseconds push_token_ttl{10 * 60'000};
  // After each wake: the server's own part (before asking the device, and from the stream
  // being published to answering) and the whole, from asking to answering.
  std::function<void(std::chrono::microseconds server, std::chrono::microseconds total)> on_woken;

  // Several nodes (issue #17). A camera's stream lives on one node; another node's viewers
  // are served through a relay: it pulls the stream once from that node into this hub (at
  // push/{serial}) and fans it out here. Unset: every stream lives here.
  // The RTSP base (rtsp://host:port) of the node that holds the camera's stream, when it is
  // another node; nullopt when it is this one.
  std::function<std::optional<std::string>(const std::string& serial)> elsewhere;
  // Starts relaying the camera's stream from the node at `base`; it stops when the handle is
  // destroyed (not under any lock of ours: it waits for its loop).
  std::function<std::shared_ptr<void>(const std::string& serial, const std::string& base)> relay;
  // Asks the node that holds the camera's stream to start it (it may not be streaming).
  std::function<void(const std::string& serial)> ask_holder;
  // This node's placement epoch (cluster::Placement::epoch), sent with `stream.start` and
  // `stream.stop`: a camera refuses the ask of a node placing it by an older list of nodes
  // than the node it just went to, so two nodes at a hand-over cannot pull it back and
  // forth. Unset or 0: none is sent.
  std::function<int64_t()> epoch;
};

class StreamDemand {
 public:
  using Done = std::function<void(std::optional<RpcError>)>;
  StreamDemand(media::hub::Hub& hub, BrokerLink& link, const StreamAccess& access,
               StreamDemandOptions options);
  ~StreamDemand();

  // Makes sure the device's stream is live: at once if it is, else after asking the device
  // and seeing the stream published. `done` is called once, from another thread.
  void start(const std::string& serial, Done done);
  // Has the device play recording `name` of its SD card from offset_ms, pushed to
  // sd/{serial}; a playback already running is ended first (its viewers are told). `done`
  // gets the device's answer ({"duration_ms","start_ms"}) once the stream is up.
  void play_recording(const std::string& serial, const std::string& name, int64_t offset_ms,
                      RpcCallback done);
  // The hub published `path` (its lifecycle event): a waiter for it is answered at once.
  void on_published(const std::string& path);
  // Devices kept streaming for a reason (`why`: "recording", "detection"), each set replacing
  // that reason's last: each device in any set is started whenever its stream is not live
  // (tried again after 1 s, then up to every 10 s while it is offline) and never stopped
  // for lack of viewers.
  void set_kept_on(const std::string& why, std::set<std::string> serials);
  // Forgets a device (unbound): nothing more is started or stopped for it.
  void forget(const std::string& serial);
  // The nodes changed (one died, left or came back): each stream watched or kept on here is
  // taken from where it lives now, its relay moved or replaced by the camera itself. One
  // that moved away and that nobody here needs is let go (a camera still pushing here is
  // told to stop; one that already pushes to its new node is not).
  void rehome();
  // Drops every relay: at shutdown, before the event loops stop (a relay stops on its loop).
  void drop_relays();

 private:
  void loop();
  void start_relay(const std::string& serial, const std::string& base, Done done);
  // `params` with this node's placement epoch, when it has one.
  nlohmann::json with_epoch(nlohmann::json params) const;
  media::hub::Hub& hub_;
  BrokerLink& link_;
  const StreamAccess& access_;
  StreamDemandOptions options_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  struct Waiter {
    std::string path;
    std::chrono::steady_clock::time_point deadline;
    RpcCallback done;
    nlohmann::json answer;  // the device's, given to done once the stream is up
    std::chrono::steady_clock::time_point asked;  // when start() was called
    std::chrono::microseconds before_rpc{0};      // the server's part before the RPC went out
    std::optional<std::chrono::steady_clock::time_point> published_at;  // the hub's event
  };
  std::vector<Waiter> waiters_;  // asked, answered, not yet published
  // Streams started on demand, by hub path: the device, the method that stops it, and since
  // when nobody watches (nullopt: watched). A relayed stream has no stop method: its relay
  // from the node that holds it (relay_from), made at `relayed_at`, is dropped instead.
  struct Started {
    std::string serial;
    std::string stop_method;
    std::optional<std::chrono::steady_clock::time_point> unwatched_since;
    std::string relay_from;
    std::shared_ptr<void> relay;
    std::chrono::steady_clock::time_point relayed_at{}, asked_holder{};
  };
  std::map<std::string, Started> started_;
  std::map<std::string, std::set<std::string>> kept_on_by_;  // by reason
  std::set<std::string> kept_on_;                            // their union
  // When each kept-on device may be asked again, and the wait after that (doubling from a
  // second up to ten while it stays offline; back to a second once it streams).
  struct Retry {
    std::chrono::steady_clock::time_point next{};
    std::chrono::milliseconds delay{1000};
  };
  std::map<std::string, Retry> kept_on_tried_;
  std::thread thread_;
};

}  // namespace nj::device
