#include "device/broker_link.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "device/key_file.h"
#include "device_protocol/topics.h"
#include "mqtt/dynsec.h"

namespace nj::device {
namespace {

using nlohmann::json;
namespace dynsec = mqtt::dynsec;
namespace proto = device_protocol;
using proto::kTopicRoot;
using proto::topic;

std::string role_of(const std::string& serial) { return "device-" + serial; }

}  // namespace

std::vector<dynsec::Acl> server_acls() {
  const std::string all = std::string(kTopicRoot) + "#";
  return {{"publishClientSend", all, true},
          {"publishClientReceive", all, true},
          {"subscribePattern", all, true},
          {"publishClientSend", "nj/home/#", true}};
}

std::vector<json> device_role_commands(const std::string& serial, const std::string& secret,
                                       bool enabled) {
  const std::string root = topic(serial, "");
  std::vector<dynsec::Acl> acls;
  for (const char* leaf : {"state", "event", "rpc/res", "telemetry", "claim"}) {
    acls.push_back({"publishClientSend", root + leaf, true});
  }
  acls.push_back({"subscribePattern", root + "rpc/req", true});
  acls.push_back({"publishClientReceive", root + "rpc/req", true});
  // Create, or find existing (a broker restarted with its state; then "already exists" is
  // expected). Nothing here may change a connected client that is fine, as mosquitto
  // disconnects a client whose password changes: a secret changes only with its generation,
  // and a rotation sends setClientPassword on its own.
  return {dynsec::create_role(role_of(serial), acls),
          dynsec::create_client(serial, secret, role_of(serial)),
          enabled ? dynsec::enable_client(serial) : dynsec::disable_client(serial)};
}

json device_login_command(const std::string& serial, const std::string& secret, bool enabled) {
  return {
      {"command", "setDevice"}, {"username", serial}, {"password", secret}, {"enabled", enabled}};
}

BrokerLink::BrokerLink(DeviceRegistry& registry, mqtt::ClientOptions admin,
                       const ClientFactory& factory, ClaimHandler on_claim, Mine mine,
                       bool devices_plugin)
    : registry_(registry),
      on_claim_(std::move(on_claim)),
      mine_(std::move(mine)),
      client_username_(admin.username),
      devices_plugin_(devices_plugin) {
  admin.will.reset();
  id_prefix_ = random_id().substr(0, 8) + "-";
  client_ = factory(
      std::move(admin), [this](const mqtt::Message& m) { on_message(m); },
      [this](bool up, const std::string& why) { on_state(up, why); });
  client_->subscribe(std::string(dynsec::kResponseTopic));
  if (devices_plugin_) client_->subscribe(std::string(kDevicesResponseTopic));
  for (const char* leaf : {"state", "rpc/res", "telemetry", "event", "claim"}) {
    client_->subscribe(std::string(kTopicRoot) + "+/" + leaf);
  }
  timer_ = std::thread([this] {
    std::unique_lock lock(mu_);
    auto next_sync = std::chrono::steady_clock::now();
    while (!stopping_) {
      wake_.wait_for(lock, std::chrono::milliseconds(100),
                     [this] { return stopping_ || (connected_ && needs_full_sync_); });
      if (stopping_) break;
      const bool reconnected = connected_ && needs_full_sync_;
      lock.unlock();
      expire_calls();
      if (reconnected || std::chrono::steady_clock::now() >= next_sync) {
        sync();
        next_sync = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      }
      lock.lock();
    }
  });
}

BrokerLink::~BrokerLink() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  timer_.join();
  client_.reset();  // no more callbacks after this
  std::map<std::string, Pending> left;
  {
    std::lock_guard lock(mu_);
    left.swap(pending_);
  }
  for (auto& [id, p] : left) p.done(Unexpected(RpcError{"offline", "the server is stopping"}));
}

bool BrokerLink::connected() const {
  std::lock_guard lock(mu_);
  return connected_;
}

BrokerLink::Stats BrokerLink::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void BrokerLink::on_state(bool up, const std::string& why) {
  {
    std::lock_guard lock(mu_);
    connected_ = up;
    if (up) needs_full_sync_ = true;
  }
  if (up) {
    spdlog::info("device.broker_link.connected");
    // The sync runs on the timer thread, at once: this callback can come before the
    // constructor has even stored the client (a broker that answers in a millisecond).
    wake_.notify_all();
  } else {
    spdlog::warn("device.broker_link.disconnected reason=\"{}\"", why);
  }
}

void BrokerLink::send_control(const std::vector<json>& commands, const std::string& topic) {
  // Batches of 50: one message per device would be slow, one huge message is refused.
  for (size_t at = 0; at < commands.size(); at += 50) {
    std::vector<json> part(
        commands.begin() + static_cast<long>(at),
        commands.begin() + static_cast<long>(std::min(at + 50, commands.size())));
    client_->publish(topic, dynsec::batch(part), 1, false);
  }
}

void BrokerLink::set_provisioner(std::function<bool()> may) {
  std::lock_guard lock(mu_);
  may_provision_ = std::move(may);
}

void BrokerLink::sync() {
  bool full = false;
  std::function<bool()> may;
  {
    std::lock_guard lock(mu_);
    if (!connected_) return;
    full = needs_full_sync_;
    needs_full_sync_ = false;
    may = may_provision_;
  }
  if (may && !may()) {
    std::lock_guard lock(mu_);
    provision_all_next_ = true;
    return;
  }
  {
    std::lock_guard lock(mu_);
    full = full || std::exchange(provision_all_next_, false);
  }
  provision(registry_.all(), full);
  if (full) {
    std::lock_guard lock(event_mu_);
    if (on_full_sync_) on_full_sync_();
  }
}

void BrokerLink::set_full_sync_handler(std::function<void()> handler) {
  std::lock_guard lock(event_mu_);
  on_full_sync_ = std::move(handler);
}

void BrokerLink::publish(const std::string& topic, const std::string& payload, bool retain) {
  client_->publish(topic, payload, 1, retain);
}

void BrokerLink::provision(const std::vector<Device>& devices, bool all) {
  std::vector<json> commands;
  size_t count = 0;
  {
    std::lock_guard lock(mu_);
    if (all) provisioned_.clear();
    for (const auto& d : devices) {
      auto it = provisioned_.find(d.serial);
      if (it != provisioned_.end() && it->second == d.enabled) continue;
      if (devices_plugin_) {
        commands.push_back(device_login_command(d.serial, registry_.current_secret(d), d.enabled));
      } else if (it == provisioned_.end()) {
        auto c = device_role_commands(d.serial, registry_.current_secret(d), d.enabled);
        commands.insert(commands.end(), c.begin(), c.end());
      } else {
        commands.push_back(d.enabled ? dynsec::enable_client(d.serial)
                                     : dynsec::disable_client(d.serial));
      }
      provisioned_[d.serial] = d.enabled;
      ++count;
    }
    stats_.provisioned += count;
  }
  if (!commands.empty()) {
    spdlog::info("device.broker_link.provisioned devices={}", count);
    send_control(commands, devices_plugin_ ? std::string(kDevicesControlTopic)
                                           : std::string(dynsec::kControlTopic));
  }
}

void BrokerLink::set_state_handler(StateHandler handler) {
  std::lock_guard lock(event_mu_);
  on_state_ = std::move(handler);
}

void BrokerLink::set_sd_handler(SdHandler handler) {
  std::lock_guard lock(event_mu_);
  on_sd_ = std::move(handler);
}

void BrokerLink::set_event_handler(EventHandler handler) {
  std::lock_guard lock(event_mu_);
  on_event_ = std::move(handler);
}

void BrokerLink::set_enabled(const std::string& serial, bool enabled) {
  {
    std::lock_guard lock(mu_);
    // A device not on the broker yet (registered since the last sync) is created by the
    // next sync, as the registry says; marking it here would mean it never is.
    const auto it = provisioned_.find(serial);
    if (it == provisioned_.end()) return;
    it->second = enabled;
  }
  if (devices_plugin_) {
    send_control({{{"command", "setEnabled"}, {"username", serial}, {"enabled", enabled}}},
                 std::string(kDevicesControlTopic));
  } else {
    send_control({enabled ? dynsec::enable_client(serial) : dynsec::disable_client(serial)});
  }
}

void BrokerLink::call(const std::string& serial, const std::string& method, json params,
                      std::chrono::milliseconds timeout, RpcCallback done) {
  auto device = registry_.by_serial(serial);
  if (!device || !device->online) {
    done(Unexpected(RpcError{"offline", "the device is offline"}));
    return;
  }
  std::string id;
  {
    std::lock_guard lock(mu_);
    id = id_prefix_ + std::to_string(next_id_++);
    pending_[id] =
        Pending{serial, method, std::chrono::steady_clock::now() + timeout, std::move(done)};
    ++stats_.rpc_sent;
  }
  client_->publish(topic(serial, "rpc/req"),
                   json{{"id", id}, {"method", method}, {"params", std::move(params)}}.dump(), 1,
                   false);
}

void BrokerLink::expire_calls() {
  std::vector<RpcCallback> expired;
  {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.deadline <= now) {
        expired.push_back(std::move(it->second.done));
        it = pending_.erase(it);
        ++stats_.rpc_timeouts;
      } else {
        ++it;
      }
    }
  }
  for (auto& done : expired) {
    done(Unexpected(RpcError{"timeout", "the device did not answer in time"}));
  }
}

void BrokerLink::on_message(const mqtt::Message& m) {
  if (m.topic == dynsec::kResponseTopic || m.topic == kDevicesResponseTopic) {
    for (const auto& outcome : dynsec::parse_response(m.payload)) {
      if (outcome.error.empty() || outcome.error.find("already exists") != std::string::npos) {
        continue;
      }
      spdlog::error("device.broker_link.control_error command={} error=\"{}\"", outcome.command,
                    outcome.error);
      std::lock_guard lock(mu_);
      ++stats_.control_errors;
    }
    return;
  }
  const auto parsed = proto::parse_topic(m.topic);
  if (!parsed) return;
  // The last line of defence: the parsers return errors as values, but nothing a device
  // sends may ever unwind through the MQTT client's thread (that would abort the server).
  try {
    on_device_message(parsed->serial, parsed->leaf, m.payload);
  } catch (const std::exception& e) {
    spdlog::error("device.message.failed serial={} leaf={} what=\"{}\"", parsed->serial,
                  parsed->leaf, e.what());
  }
}

void BrokerLink::notify(const std::string& serial, const std::string& method, json params) {
  client_->publish(topic(serial, "rpc/req"),
                   json{{"id", method}, {"method", method}, {"params", std::move(params)}}.dump(),
                   1, false);
}

void BrokerLink::announce_binding(const std::string& serial) {
  auto d = registry_.by_serial(serial);
  if (!d) return;
  notify(serial, "binding.set",
         {{"binding",
           d->owner_id ? json(registry_.binding_tag(serial, *d->owner_id)) : json(nullptr)}});
}

void BrokerLink::reread_states() { client_->subscribe(std::string(kTopicRoot) + "+/state"); }

void BrokerLink::set_reject_handler(RejectHandler handler) {
  std::lock_guard lock(event_mu_);
  on_reject_ = std::move(handler);
}

void BrokerLink::reject(const std::string& serial, proto::MessageKind kind,
                        const proto::InputError& error) {
  spdlog::debug("device.message.rejected serial={} kind={} reason={} field={}", serial,
                proto::kind_name(kind), proto::reason_name(error.reason), error.field);
  std::lock_guard lock(event_mu_);
  if (on_reject_) on_reject_(kind, error.reason);
}

void BrokerLink::on_device_message(const std::string& serial, const std::string& leaf,
                                   const std::string& payload) {
  // The broker's ACLs let only the device itself publish under its serial.
  if (leaf != "rpc/res" && mine_ && !mine_(serial)) return;  // another node's camera
  if (leaf == "state") {
    auto state = proto::parse_state(payload);
    if (!state) return reject(serial, proto::MessageKind::kState, state.error());
    registry_.set_presence(serial, state->online, state->ip, state->firmware);
    if (state->settings) registry_.set_settings(serial, *state->settings);
    if (state->online) announce_binding(serial);  // a new connection: tell it whose it is
    std::lock_guard lock(event_mu_);
    if (on_state_) on_state_(serial, *state);
    return;
  }
  if (leaf == "telemetry") {
    // {"bytes_sent": n} since the device's last report, and {"sd": {…}} the card's state.
    auto t = proto::parse_telemetry(payload);
    if (!t) return reject(serial, proto::MessageKind::kTelemetry, t.error());
    if (t->bytes_sent) registry_.add_traffic(serial, *t->bytes_sent);
    if (t->sd) {
      registry_.set_sd_state(serial, proto::to_json(*t->sd).dump());
      std::lock_guard lock(event_mu_);
      if (on_sd_) on_sd_(serial, *t->sd);
    }
    return;
  }
  if (leaf == "event") {
    auto event = proto::parse_event(payload);
    if (!event) return reject(serial, proto::MessageKind::kEvent, event.error());
    // Called under its own lock, so that unsetting the handler waits for a call under way.
    std::lock_guard lock(event_mu_);
    if (on_event_) on_event_(serial, *event);
    return;
  }
  if (leaf == "claim") {
    // The answer goes back as a one-way request: {"method": "bind.result", "params":
    // {"bound": true} or {"bound": false, "reason": "…"}}.
    auto claim = proto::parse_claim(payload);
    if (!claim) return reject(serial, proto::MessageKind::kClaim, claim.error());
    if (!on_claim_) return;
    const std::string why = on_claim_(serial, claim->token);
    json params = {{"bound", why.empty()}};
    if (!why.empty()) params["reason"] = why;
    client_->publish(topic(serial, "rpc/req"),
                     json{{"id", "bind"}, {"method", "bind.result"}, {"params", params}}.dump(), 1,
                     false);
    if (why.empty()) announce_binding(serial);
    spdlog::info("device.claim serial={} bound={}", serial, why.empty());
    return;
  }
  if (leaf == "rpc/res") {
    auto response = proto::parse_rpc_response(payload);
    if (!response) return reject(serial, proto::MessageKind::kRpcResponse, response.error());
    Pending call;
    {
      std::lock_guard lock(mu_);
      auto it = pending_.find(response->id);
      // An answer from another device for this id is not an answer.
      if (it == pending_.end() || it->second.serial != serial) return;
      call = std::move(it->second);
      pending_.erase(it);
    }
    if (response->error) {
      call.done(Unexpected(RpcError{response->error->code, response->error->message}));
      return;
    }
    auto result = proto::read_rpc_result(call.method, response->result);
    if (!result) {
      reject(serial, proto::MessageKind::kRpcResult, result.error());
      call.done(Unexpected(
          RpcError{"bad_answer", "the device's answer to " + call.method + " was malformed"}));
      return;
    }
    call.done(std::move(*result));
  }
}

}  // namespace nj::device
