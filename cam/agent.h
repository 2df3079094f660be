// The device agent's control plane: connects out to the cloud's broker with the device's
// own credentials (username = serial), says it is online (retained `state`, with a last
// will saying offline), and answers the cloud's RPCs on `rpc/req`:
//   stream.start {url}  push the camera's stream to that RTSP URL (the token is in it)
//   stream.stop         stop pushing
//   config.set {…}      apply settings (device_protocol::CameraSettings: motion_sensitivity,
//                       night_mode, mirror, flip, status_light, microphone, privacy_mode,
//                       bitrate_kbps), kept across restarts and said again in `state`.
//                       In privacy mode the camera pushes nothing (stream.start answers
//                       privacy_mode) and reports no motion, until it is turned off
//   reboot              go offline and come back, as a camera does
//   sd.list             the card's recordings and state
//   sd.delete {name}    delete one recording
//   sd.format           delete everything on the card (the app asks the user first)
//   sd.play {name, url, offset_ms?}  push that recording to url (the cloud's sd/{serial}),
//                       from the keyframe at or before offset_ms, at the pace it was recorded
//   sd.stop             stop playing a recording
//   event.snapshot {event_id, url}  a picture for an event while not streaming: the camera
//                       takes one and PUTs it to url (https, or http on loopback) with its
//                       own credentials; answered at once, uploaded on its own thread
//   binding.set {binding}  one-way: whose the camera is now (a tag, or null: nobody's). A
//                       camera that changed hands erases its card first; the card's RPCs
//                       wait for this after every connection (not_ready until then)
// Its retained `state` carries its settings, so the cloud always knows what it does; it
// reports on `telemetry` what it sent ({"bytes_sent": n} since the last report) and
// the state of its card ({"sd": {"capacity_bytes","used_bytes","health"}}), and on `event`
// what its motion detector sees ({"kind": "motion", "state": "start"|"end", "score"}),
// unless motion_sensitivity is 0.
// Anything else gets {"error": {"code": "unsupported"}}.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "device_protocol/messages.h"
#include "media/hub/hub.h"
#include "media/rtsp/client_io.h"
#include "mqtt/client.h"
#include "net/io_pool.h"
#include "sd_card.h"
#include "sd_player.h"
#include "talk.h"

namespace nj::cam {

struct AgentOptions {
  std::string serial, secret;
  std::string mqtt_host = "127.0.0.1";
  uint16_t mqtt_port = 1883;
  std::string mqtt_tls_ca_file;  // TLS, trusting exactly this certificate; empty: plain
  std::string firmware = "nightjar-cam 0.1";
  std::filesystem::path state_dir;  // settings.json lives here; empty: not kept
  std::chrono::milliseconds reconnect_min{500}, reconnect_max{30'000};
  // A bind token from a QR code: presented (on `claim`) after connecting, until the cloud
  // answers bind.result.
  std::string claim_token;
  std::chrono::milliseconds telemetry_interval{30'000};
  // What the camera keeps while its server is gone, to send when one asks again (the GOP in
  // flight and all after it, up to this long): a node's death costs the recording at most
  // that GOP. Zero: nothing is kept.
  std::chrono::seconds backlog{20};
  // A node's `stream.start` or `stream.stop` carries its placement epoch. For this long after
  // following one, an ask with an older epoch is refused (`superseded`): it comes from a node
  // that has not yet seen the nodes change, and would pull the camera back (a stream moved
  // twice records its GOP in flight twice). Past it any ask is followed, so a server whose
  // clock went back is not locked out.
  std::chrono::milliseconds fence_window{5000};
  // Told the settings in force at start and after every change (the sensor, the encoder,
  // the LED: what the simulator draws). Called on the agent's threads.
  std::function<void(const device_protocol::CameraSettings&)> on_settings;
  // The camera's own picture now, as a JPEG (none: event.snapshot answers unsupported), and
  // how it is uploaded: PUT to url with the device's credentials; true when taken.
  std::function<std::optional<std::string>()> snapshot;
  std::function<bool(const std::string& url, const std::string& jpeg)> upload;
  // Where talk audio is played (none: talk.start answers unsupported).
  Speaker* speaker = nullptr;
};

class Agent {
 public:
  // media_path: the local hub stream that stream.start pushes (the camera's own). sd: the
  // camera's SD card, if it has one (sd.* RPCs answer "no_card" otherwise).
  Agent(net::IoPool& pool, media::hub::Hub& hub, AgentOptions options, std::string media_path,
        SdCard* sd = nullptr);
  ~Agent();  // says offline, stops pushing, disconnects

  bool connected() const;
  bool pushing() const;
  std::string push_url() const;  // where it pushes now; "" when it does not
  // The cloud's answer to the claim: nullopt until it came; "" when bound, else why not.
  std::optional<std::string> bind_result() const;
  nlohmann::json settings() const;
  // The motion detector's verdict changed (from the sensor or the simulator's schedule).
  void motion(bool active);

 private:
  void connect();
  void on_message(const mqtt::Message& m);
  nlohmann::json handle(const std::string& method, const nlohmann::json& params);
  nlohmann::json apply_settings(const nlohmann::json& params);
  void publish_state(bool online);
  // Publishes through the current client, if any (QoS 1).
  void publish(const std::string& topic, const std::string& payload, bool retain);
  void drop_client();
  // Adds what the pusher and the player sent since last asked to unreported_bytes_ (mu_ held).
  void account_pusher();
  // {"sd": {"capacity_bytes","used_bytes","health"}}, or {} without a card.
  nlohmann::json sd_card_telemetry() const;
  nlohmann::json play_recording(const nlohmann::json& params);
  nlohmann::json snapshot_for_event(const nlohmann::json& params);
  nlohmann::json start_talk(const nlohmann::json& params);
  // True if a node's ask carries an epoch older than the last one followed, within
  // fence_window of it; else the ask's epoch (if any) becomes the one followed (mu_ held).
  bool superseded(const nlohmann::json& params);

  net::IoPool& pool_;
  media::hub::Hub& hub_;
  AgentOptions options_;
  std::string media_path_;
  SdCard* sd_;
  // Guards the pointer only (a reboot replaces the client while other threads publish).
  mutable std::mutex client_mu_;
  std::unique_ptr<mqtt::Client> client_;
  mutable std::mutex mu_;  // guards the members below
  std::unique_ptr<media::rtsp::Pusher> pusher_;
  std::string push_url_;
  int64_t fence_epoch_ = 0;  // of the last ask followed that had one, and when
  std::chrono::steady_clock::time_point fence_at_{};
  std::unique_ptr<SdPlayer> player_;    // a recording of the card being played
  std::unique_ptr<TalkReceiver> talk_;  // the call being played on the speaker
  // What a camera out of the box does (saved changes are laid over it at start).
  device_protocol::CameraSettings settings_{.motion_sensitivity = 50,
                                            .night_mode = "auto",
                                            .mirror = false,
                                            .flip = false,
                                            .status_light = true,
                                            .microphone = true,
                                            .privacy_mode = false,
                                            .bitrate_kbps = std::nullopt};  // the encoder's own
  bool reboot_requested_ = false;
  std::optional<std::string> bind_result_;
  // Whose the camera is, told by the cloud at every connection (binding.set): until then
  // the card serves no one, since it may still hold a previous owner's recordings.
  bool binding_known_ = false;
  bool motion_reported_ = false;  // a start went out, its end is owed
  std::thread rebooter_;
  std::thread uploader_;  // one picture at a time; a second asked meanwhile is refused (busy)
  bool uploading_ = false;
  std::thread ticker_;
  std::condition_variable ticker_wake_;
  uint64_t unreported_bytes_ = 0, pusher_bytes_seen_ = 0, player_bytes_seen_ = 0;
  bool stopping_ = false;
};

}  // namespace nj::cam
