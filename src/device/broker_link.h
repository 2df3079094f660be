// The server's side of the device control plane, over its privileged MQTT client:
// - gives every registered device its own broker credentials (username = serial, password =
//   its secret) and a role allowing only its own topics, through mosquitto's
//   dynamic-security plugin; disables the credentials of devices that are not enabled;
// - keeps presence from the devices' retained `state` topics (and their last wills);
// - carries RPCs: requests on `rpc/req`, answers matched by id on `rpc/res`, with timeouts
//   and a clear error at once when the device is offline.
// Everything a device publishes is read by device_protocol (bounded, typed, errors as
// values); what it refuses is counted and dropped, and no message can throw past here.
// Callbacks run on the MQTT client's thread or the link's timer thread, never a loop's.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "device/registry.h"
#include "device_protocol/messages.h"
#include "mqtt/client.h"
#include "mqtt/dynsec.h"

namespace nj::device {

struct RpcError {
  std::string code;  // "offline", "timeout", "unsupported", or the device's own code
  std::string message;
};
using RpcResult = Result<nlohmann::json, RpcError>;
using RpcCallback = std::function<void(RpcResult)>;

using DeviceEvent = device_protocol::DeviceEvent;

class BrokerLink {
 public:
  using ClientFactory = std::function<std::unique_ptr<mqtt::Client>(
      mqtt::ClientOptions, mqtt::Client::MessageHandler, mqtt::Client::StateHandler)>;
  // A device asks to be bound with a token from a QR code; returns "" or why not.
  using ClaimHandler =
      std::function<std::string(const std::string& serial, const std::string& token)>;

  // Several nodes: whether this node handles what a device reports (its state, telemetry,
  // events, claim): the node its stream lives on. Every node hears every device and answers
  // only for its own, so each report is acted on once, by the node that keeps that camera's
  // state, with any MQTT 3.1.1 broker. RPC answers go to the node that asked, by call id.
  using Mine = std::function<bool(const std::string& serial)>;

  // admin: where the broker is and its privileged credentials. factory: mqtt::connect, or a
  // fake in tests. mine: empty, every device is this node's.
  // devices_plugin: the broker keeps the cameras' logins in Nightjar's plugin
  // (nightjar-devices.so, one command each, O(1)) rather than as dynamic-security clients.
  BrokerLink(DeviceRegistry& registry, mqtt::ClientOptions admin, const ClientFactory& factory,
             ClaimHandler on_claim = {}, Mine mine = {}, bool devices_plugin = false);
  ~BrokerLink();

  bool connected() const;
  // Provisions devices registered since the last sync (and re-checks enabled flags). Runs
  // by itself every few seconds; call it after a change to act at once.
  void sync();
  // Sends one RPC; `done` is called exactly once.
  void call(const std::string& serial, const std::string& method, nlohmann::json params,
            std::chrono::milliseconds timeout, RpcCallback done);
  // A one-way request (no answer expected).
  void notify(const std::string& serial, const std::string& method, nlohmann::json params);
  // Tells the device whose it is now (binding.set {"binding": tag or null}); a camera that
  // changed hands erases its SD card before it serves anyone. Sent by the link itself at
  // every connection (the device says it is online) and after a claim; callers send it
  // after binding by code and after unbinding.
  void announce_binding(const std::string& serial);
  // Several nodes: the devices' retained states are asked for again (the nodes changed, and
  // this node now holds cameras whose last state went to a node that is gone).
  void reread_states();
  // Credentials refused (unbind) or allowed again (bind); cuts a connected device off.
  void set_enabled(const std::string& serial, bool enabled);
  // Where the devices' events go (called on the MQTT client's thread).
  using EventHandler = std::function<void(const std::string& serial, const DeviceEvent& event)>;
  void set_event_handler(EventHandler handler);

  // Told of every state a device reports, after it is kept (on the MQTT client's thread).
  using StateHandler =
      std::function<void(const std::string& serial, const device_protocol::StateReport& state)>;
  void set_state_handler(StateHandler handler);

  // Told of every SD card state a device reports (on the MQTT client's thread).
  using SdHandler =
      std::function<void(const std::string& serial, const device_protocol::SdCardState& sd)>;
  void set_sd_handler(SdHandler handler);

  // Told of every refused device message (on the MQTT client's thread), for /metrics.
  using RejectHandler =
      std::function<void(device_protocol::MessageKind kind, device_protocol::Reason reason)>;
  void set_reject_handler(RejectHandler handler);

  // The server's own messages outside the devices' space (home-automation topics), and
  // dynamic-security commands for clients that are not devices.
  void publish(const std::string& topic, const std::string& payload, bool retain);
  void control(const std::vector<nlohmann::json>& commands) { send_control(commands); }
  // Told after every full sync (each (re)connection: the broker may have restarted and
  // lost what it knew), on the link's timer thread.
  void set_full_sync_handler(std::function<void()> handler);
  // Several nodes on one broker: whether this node provisions the devices now (one node at a
  // time, by lease; each creation makes mosquitto rewrite its whole state file). Unset: it
  // always does. A node that takes the turn over provisions everything once.
  void set_provisioner(std::function<bool()> may);

  struct Stats {
    uint64_t provisioned = 0, control_errors = 0, rpc_sent = 0, rpc_timeouts = 0;
  };
  Stats stats() const;

 private:
  void on_message(const mqtt::Message& m);
  void on_device_message(const std::string& serial, const std::string& leaf,
                         const std::string& payload);
  void reject(const std::string& serial, device_protocol::MessageKind kind,
              const device_protocol::InputError& error);
  void on_state(bool connected, const std::string& why);
  void provision(const std::vector<Device>& devices, bool all);
  void send_control(const std::vector<nlohmann::json>& commands,
                    const std::string& topic = std::string(mqtt::dynsec::kControlTopic));
  void expire_calls();

  DeviceRegistry& registry_;
  ClaimHandler on_claim_;
  Mine mine_;
  std::function<bool()> may_provision_;  // guarded by mu_; called outside it
  bool provision_all_next_ = false;      // the turn was another node's: all, when it is ours
  std::mutex event_mu_;                  // held while on_event_ runs
  EventHandler on_event_;                // guarded by event_mu_
  StateHandler on_state_;                // guarded by event_mu_
  SdHandler on_sd_;                      // guarded by event_mu_
  RejectHandler on_reject_;              // guarded by event_mu_
  std::function<void()> on_full_sync_;   // guarded by event_mu_
  std::string client_username_;
  std::unique_ptr<mqtt::Client> client_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool connected_ = false;
  bool needs_full_sync_ = true;  // after every (re)connection: the broker may have restarted
  std::map<std::string, bool> provisioned_;  // serial → enabled, as the broker has it
  const bool devices_plugin_;
  struct Pending {
    std::string serial;
    std::string method;
    std::chrono::steady_clock::time_point deadline;
    RpcCallback done;
  };
  std::map<std::string, Pending> pending_;  // by request id
  uint64_t next_id_ = 1;
  // Every node hears every answer: a call's id starts with this link's own random prefix, so
  // that one node never takes another's answer for its own (ids are at most 32 characters).
  std::string id_prefix_;
  Stats stats_;
  std::thread timer_;
};

// What the server's own client must be allowed on the broker (the embedded broker is set
// up so; an external broker's operator must grant it): publish and receive nj/v1/#, and
// publish nj/home/# (people's home-automation topics).
std::vector<mqtt::dynsec::Acl> server_acls();

// The role a device gets: publish its own up-topics, receive its own rpc/req.
std::vector<nlohmann::json> device_role_commands(const std::string& serial,
                                                 const std::string& secret, bool enabled);

// The same device in nightjar-devices.so (src/mqtt/devices_plugin.cc), which knows a device's
// rights by its serial: one command, sent to kDevicesControlTopic.
inline constexpr std::string_view kDevicesControlTopic = "$CONTROL/nightjar-devices/v1";
inline constexpr std::string_view kDevicesResponseTopic = "$CONTROL/nightjar-devices/v1/response";
nlohmann::json device_login_command(const std::string& serial, const std::string& secret,
                                    bool enabled);

}  // namespace nj::device
