#include "agent.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <thread>

#include "device/topics.h"

namespace nj::cam {

using nlohmann::json;

namespace {

json error(const std::string& code, const std::string& message) {
  return json{{"error", {{"code", code}, {"message", message}}}};
}

}  // namespace

Agent::Agent(net::IoPool& pool, media::hub::Hub& hub, AgentOptions options, std::string media_path)
    : pool_(pool), hub_(hub), options_(std::move(options)), media_path_(std::move(media_path)) {
  if (!options_.state_dir.empty()) {
    std::ifstream in(options_.state_dir / "settings.json");
    auto saved = json::parse(in, nullptr, false);
    if (saved.is_object()) settings_ = saved;
  }
  connect();
  if (!options_.claim_token.empty()) {
    // The claim is said again every few seconds until the cloud answers: a message lost
    // while the broker or the server was (re)starting must not leave the camera unbound.
    claimer_ = std::thread([this] {
      std::unique_lock lock(mu_);
      while (!stopping_ && !bind_result_) {
        claim_wake_.wait_for(lock, std::chrono::seconds(3));
        if (stopping_ || bind_result_) break;
        lock.unlock();
        if (client_ && client_->connected()) {
          client_->publish(device::topic(options_.serial, "claim"),
                           json{{"token", options_.claim_token}}.dump(), 1, false);
        }
        lock.lock();
      }
    });
  }
}

Agent::~Agent() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  claim_wake_.notify_all();
  if (claimer_.joinable()) claimer_.join();
  if (rebooter_.joinable()) rebooter_.join();
  publish_state(false);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the state go out
  client_.reset();
  std::lock_guard lock(mu_);
  pusher_.reset();
}

void Agent::connect() {
  mqtt::ClientOptions o;
  o.host = options_.mqtt_host;
  o.port = options_.mqtt_port;
  o.client_id = "cam-" + options_.serial;
  o.username = options_.serial;
  o.password = options_.secret;
  o.will =
      mqtt::Message{device::topic(options_.serial, "state"), json{{"online", false}}.dump(), true};
  o.reconnect_min = options_.reconnect_min;
  o.reconnect_max = options_.reconnect_max;
  client_ = mqtt::connect(
      o, [this](const mqtt::Message& m) { on_message(m); },
      [this](bool up, const std::string& why) {
        if (up) {
          spdlog::info("cam.connected serial={}", options_.serial);
          publish_state(true);
          bool claim = false;
          {
            std::lock_guard lock(mu_);
            claim = !options_.claim_token.empty() && !bind_result_;
          }
          if (claim) {
            client_->publish(device::topic(options_.serial, "claim"),
                             json{{"token", options_.claim_token}}.dump(), 1, false);
          }
        } else {
          spdlog::warn("cam.disconnected serial={} reason=\"{}\"", options_.serial, why);
        }
      });
  client_->subscribe(device::topic(options_.serial, "rpc/req"));
}

bool Agent::connected() const { return client_ && client_->connected(); }

bool Agent::pushing() const {
  std::lock_guard lock(mu_);
  return pusher_ && pusher_->status().streaming;
}

std::optional<std::string> Agent::bind_result() const {
  std::lock_guard lock(mu_);
  return bind_result_;
}

json Agent::settings() const {
  std::lock_guard lock(mu_);
  return settings_;
}

void Agent::publish_state(bool online) {
  if (!client_) return;
  json state{{"online", online}};
  if (online) state["firmware"] = options_.firmware;
  client_->publish(device::topic(options_.serial, "state"), state.dump(), 1, true);
}

void Agent::on_message(const mqtt::Message& m) {
  if (m.topic != device::topic(options_.serial, "rpc/req")) return;
  const auto req = json::parse(m.payload, nullptr, false);
  if (!req.is_object() || !req.contains("id") || !req["id"].is_string() ||
      !req.contains("method") || !req["method"].is_string()) {
    spdlog::warn("cam.rpc.malformed serial={}", options_.serial);
    return;
  }
  const json params = req.contains("params") ? req["params"] : json::object();
  if (req["method"] == "bind.result") {  // one-way: the answer to our claim
    const bool bound = params.is_object() && params.value("bound", false);
    const std::string reason = params.is_object() ? params.value("reason", "") : "";
    spdlog::info("cam.bind serial={} bound={} reason=\"{}\"", options_.serial, bound, reason);
    std::lock_guard lock(mu_);
    bind_result_ = bound ? std::string() : (reason.empty() ? "refused" : reason);
    return;
  }
  json answer = handle(req["method"].get<std::string>(), params);
  answer["id"] = req["id"];
  client_->publish(device::topic(options_.serial, "rpc/res"), answer.dump(), 1, false);
}

json Agent::handle(const std::string& method, const json& params) {
  if (method == "stream.start") {
    if (!params.is_object() || !params.contains("url") || !params["url"].is_string()) {
      return error("invalid_params", "stream.start needs a url");
    }
    const std::string url = params["url"];
    if (!url.starts_with("rtsp://")) return error("invalid_params", "the url must be rtsp://");
    std::unique_ptr<media::rtsp::Pusher> old;
    {
      std::lock_guard lock(mu_);
      if (pusher_ && push_url_ == url) return json{{"result", {{"streaming", true}}}};
      old = std::move(pusher_);
    }
    old.reset();  // outside the lock: it waits for its loop
    media::rtsp::PushOptions push;
    push.url = url;
    push.path = media_path_;
    push.backoff = {std::chrono::milliseconds(300), std::chrono::milliseconds(5000)};
    auto pusher = std::make_unique<media::rtsp::Pusher>(pool_, hub_, push);
    std::lock_guard lock(mu_);
    pusher_ = std::move(pusher);
    push_url_ = url;
    spdlog::info("cam.stream.start serial={}", options_.serial);
    return json{{"result", {{"streaming", true}}}};
  }
  if (method == "stream.stop") {
    std::unique_ptr<media::rtsp::Pusher> old;
    {
      std::lock_guard lock(mu_);
      old = std::move(pusher_);
      push_url_.clear();
    }
    old.reset();
    spdlog::info("cam.stream.stop serial={}", options_.serial);
    return json{{"result", json::object()}};
  }
  if (method == "config.set") return apply_settings(params);
  if (method == "reboot") {
    {
      std::lock_guard lock(mu_);
      if (reboot_requested_) return json{{"result", json::object()}};
      reboot_requested_ = true;
    }
    if (rebooter_.joinable()) rebooter_.join();  // the last reboot has finished
    // After this answer has gone: say offline, drop everything, come back.
    rebooter_ = std::thread([this] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      publish_state(false);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      client_.reset();
      {
        std::lock_guard lock(mu_);
        pusher_.reset();
        push_url_.clear();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      connect();
      std::lock_guard lock(mu_);
      reboot_requested_ = false;
    });
    return json{{"result", json::object()}};
  }
  return error("unsupported", "this device has no method " + method);
}

json Agent::apply_settings(const json& params) {
  if (!params.is_object() || params.empty()) {
    return error("invalid_params", "config.set needs settings");
  }
  // Check everything first: a bad value changes nothing.
  for (const auto& [key, value] : params.items()) {
    if (key == "motion_sensitivity") {
      if (!value.is_number_integer() || value.get<int>() < 0 || value.get<int>() > 100) {
        return error("invalid_params", "motion_sensitivity is 0 to 100");
      }
    } else if (key == "night_mode") {
      if (!value.is_string() || (value != "auto" && value != "on" && value != "off")) {
        return error("invalid_params", "night_mode is auto, on or off");
      }
    } else if (key == "mirror") {
      if (!value.is_boolean()) return error("invalid_params", "mirror is true or false");
    } else if (key == "bitrate_kbps") {
      if (!value.is_number_integer() || value.get<int>() < 100 || value.get<int>() > 8000) {
        return error("invalid_params", "bitrate_kbps is 100 to 8000");
      }
    } else {
      return error("invalid_params", "unknown setting " + key);
    }
  }
  std::lock_guard lock(mu_);
  for (const auto& [key, value] : params.items()) settings_[key] = value;
  if (!options_.state_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options_.state_dir, ec);
    const auto tmp = options_.state_dir / "settings.json.tmp";
    std::ofstream(tmp, std::ios::trunc) << settings_.dump(2);
    std::filesystem::rename(tmp, options_.state_dir / "settings.json", ec);
  }
  return json{{"result", {{"settings", settings_}}}};
}

}  // namespace nj::cam
