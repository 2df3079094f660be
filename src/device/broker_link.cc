#include "device/broker_link.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "device/topics.h"
#include "mqtt/dynsec.h"

namespace nj::device {
namespace {

using nlohmann::json;
namespace dynsec = mqtt::dynsec;

std::string role_of(const std::string& serial) { return "device-" + serial; }

}  // namespace

std::vector<dynsec::Acl> server_acls() {
  const std::string all = std::string(kTopicRoot) + "#";
  return {{"publishClientSend", all, true},
          {"publishClientReceive", all, true},
          {"subscribePattern", all, true}};
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

std::optional<std::string> sd_state_json(const json& sd) {
  if (!sd.is_object()) return std::nullopt;
  const auto count = [&](const char* key) -> std::optional<uint64_t> {
    if (!sd.contains(key) || !sd[key].is_number_unsigned()) return std::nullopt;
    const uint64_t v = sd[key].get<uint64_t>();
    if (v > (uint64_t{1} << 50)) return std::nullopt;  // a petabyte card is a bad report
    return v;
  };
  const auto capacity = count("capacity_bytes"), used = count("used_bytes");
  if (!capacity || !used || *used > *capacity || !sd.contains("health") ||
      !sd["health"].is_string() || sd["health"].get_ref<const std::string&>().size() > 200) {
    return std::nullopt;
  }
  return json{{"capacity_bytes", *capacity}, {"used_bytes", *used}, {"health", sd["health"]}}
      .dump();
}

std::optional<DeviceEvent> parse_device_event(const json& body) {
  if (!body.is_object() || !body.contains("kind") || !body["kind"].is_string() ||
      !body.contains("state") || !body["state"].is_string()) {
    return std::nullopt;
  }
  DeviceEvent e;
  e.kind = body["kind"].get<std::string>();
  if (e.kind.empty() || e.kind.size() > 32 ||
      !std::all_of(e.kind.begin(), e.kind.end(),
                   [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; })) {
    return std::nullopt;
  }
  const auto& state = body["state"].get_ref<const std::string&>();
  if (state != "start" && state != "end") return std::nullopt;
  e.active = state == "start";
  if (body.contains("score")) {
    if (!body["score"].is_number()) return std::nullopt;
    e.score = body["score"].get<double>();
    if (!(e.score >= 0 && e.score <= 1)) return std::nullopt;
  }
  return e;
}

BrokerLink::BrokerLink(DeviceRegistry& registry, mqtt::ClientOptions admin,
                       const ClientFactory& factory, ClaimHandler on_claim)
    : registry_(registry), on_claim_(std::move(on_claim)), client_username_(admin.username) {
  admin.will.reset();
  client_ = factory(
      std::move(admin), [this](const mqtt::Message& m) { on_message(m); },
      [this](bool up, const std::string& why) { on_state(up, why); });
  client_->subscribe(std::string(dynsec::kResponseTopic));
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

void BrokerLink::send_control(const std::vector<json>& commands) {
  // Batches of 50: one message per device would be slow, one huge message is refused.
  for (size_t at = 0; at < commands.size(); at += 50) {
    std::vector<json> part(
        commands.begin() + static_cast<long>(at),
        commands.begin() + static_cast<long>(std::min(at + 50, commands.size())));
    client_->publish(std::string(dynsec::kControlTopic), dynsec::batch(part), 1, false);
  }
}

void BrokerLink::sync() {
  bool full = false;
  {
    std::lock_guard lock(mu_);
    if (!connected_) return;
    full = needs_full_sync_;
    needs_full_sync_ = false;
  }
  provision(registry_.all(), full);
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
      if (it == provisioned_.end()) {
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
    send_control(commands);
  }
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
  send_control({enabled ? dynsec::enable_client(serial) : dynsec::disable_client(serial)});
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
    id = std::to_string(next_id_++);
    pending_[id] = Pending{serial, std::chrono::steady_clock::now() + timeout, std::move(done)};
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
  if (m.topic == dynsec::kResponseTopic) {
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
  const auto parsed = parse_topic(m.topic);
  if (!parsed) return;
  const auto body = json::parse(m.payload, nullptr, false);
  if (parsed->leaf == "state") {
    // The broker's ACLs let only the device itself publish here.
    if (!body.is_object()) return;
    const bool online = body.value("online", false);
    registry_.set_presence(parsed->serial, online, body.value("ip", std::string()),
                           body.value("firmware", std::string()));
    return;
  }
  if (parsed->leaf == "telemetry") {
    // {"bytes_sent": n} since the device's last report, and {"sd": {…}} the card's state;
    // either may be missing, and absurd values are ignored.
    if (!body.is_object()) return;
    if (body.contains("bytes_sent") && body["bytes_sent"].is_number_unsigned()) {
      const uint64_t bytes = body["bytes_sent"].get<uint64_t>();
      if (bytes <= (uint64_t{1} << 40)) registry_.add_traffic(parsed->serial, bytes);
    }
    if (body.contains("sd")) {
      if (auto sd = sd_state_json(body["sd"])) registry_.set_sd_state(parsed->serial, *sd);
    }
    return;
  }
  if (parsed->leaf == "event") {
    const auto event = parse_device_event(body);
    if (!event) {
      spdlog::debug("device.event.malformed serial={}", parsed->serial);
      return;
    }
    // Called under its own lock, so that unsetting the handler waits for a call under way.
    std::lock_guard lock(event_mu_);
    if (on_event_) on_event_(parsed->serial, *event);
    return;
  }
  if (parsed->leaf == "claim") {
    // {"token": "…"} from the device's own connection (the ACL allows no one else here).
    // The answer goes back as a one-way request: {"method": "bind.result", "params":
    // {"bound": true} or {"bound": false, "reason": "…"}}.
    if (!on_claim_ || !body.is_object() || !body.contains("token") || !body["token"].is_string()) {
      return;
    }
    const std::string why = on_claim_(parsed->serial, body["token"].get<std::string>());
    json params = {{"bound", why.empty()}};
    if (!why.empty()) params["reason"] = why;
    client_->publish(topic(parsed->serial, "rpc/req"),
                     json{{"id", "bind"}, {"method", "bind.result"}, {"params", params}}.dump(), 1,
                     false);
    spdlog::info("device.claim serial={} bound={}", parsed->serial, why.empty());
    return;
  }
  if (parsed->leaf == "rpc/res") {
    if (!body.is_object() || !body.contains("id") || !body["id"].is_string()) return;
    RpcCallback done;
    {
      std::lock_guard lock(mu_);
      auto it = pending_.find(body["id"].get<std::string>());
      // An answer from another device for this id is not an answer.
      if (it == pending_.end() || it->second.serial != parsed->serial) return;
      done = std::move(it->second.done);
      pending_.erase(it);
    }
    if (body.contains("error")) {
      const auto& e = body["error"];
      done(Unexpected(RpcError{e.is_object() ? e.value("code", std::string("error")) : "error",
                               e.is_object() ? e.value("message", std::string()) : e.dump()}));
    } else {
      done(body.contains("result") ? body["result"] : json::object());
    }
  }
}

}  // namespace nj::device
