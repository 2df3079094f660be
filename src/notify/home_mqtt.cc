#include "notify/home_mqtt.h"

#include <spdlog/spdlog.h>

#include "mqtt/dynsec.h"
#include "notify/secrets.h"
#include "notify/text.h"

namespace nj::notify {
namespace {

using nlohmann::json;
using store::Value;
namespace dynsec = mqtt::dynsec;

constexpr std::string_view kSensors[] = {"motion", "person"};
constexpr int kOffDelaySeconds = 30;

std::string role_of(std::string_view user_id) { return "home-" + std::string(user_id); }

}  // namespace

std::string home_root(std::string_view user_id) { return "nj/home/" + std::string(user_id) + "/"; }

std::string home_username(std::string_view user_id) { return "home." + std::string(user_id); }

std::vector<json> home_role_commands(std::string_view user_id, const std::string& password) {
  const std::string root = home_root(user_id);
  const std::vector<dynsec::Acl> acls = {
      {"subscribePattern", root + "#", true},
      {"publishClientReceive", root + "#", true},
      // Home Assistant announces itself under its discovery prefix; harmless, read by no one.
      {"publishClientSend", root + "homeassistant/status", true},
  };
  return {dynsec::create_role(role_of(user_id), acls),
          dynsec::create_client(home_username(user_id), password, role_of(user_id)),
          dynsec::enable_client(home_username(user_id))};
}

std::string discovery_topic(std::string_view user_id, std::string_view device_id,
                            std::string_view kind) {
  return home_root(user_id) + "homeassistant/binary_sensor/nightjar_" + std::string(device_id) +
         "_" + std::string(kind) + "/config";
}

json discovery_config(std::string_view user_id, const HomeCamera& camera, std::string_view kind) {
  const std::string object = "nightjar_" + camera.device_id + "_" + std::string(kind);
  return {{"name", kind == "person" ? "Person" : "Motion"},
          {"unique_id", object},
          {"object_id", object},
          {"state_topic", home_root(user_id) + camera.device_id + "/" + std::string(kind)},
          {"device_class", kind == "person" ? "occupancy" : "motion"},
          {"payload_on", "ON"},
          {"payload_off", "OFF"},
          {"off_delay", kOffDelaySeconds},
          {"device",
           {{"identifiers", json::array({"nightjar_" + camera.device_id})},
            {"name", camera.name},
            {"manufacturer", "Nightjar"},
            {"model", camera.model}}}};
}

HomeMqtt::HomeMqtt(store::Database& db, const Clock& clock, privacy::ConsentLedger& consents,
                   std::vector<uint8_t> key, Publish publish, Control control, CamerasOf cameras_of)
    : db_(db),
      clock_(clock),
      consents_(consents),
      key_(std::move(key)),
      publish_(std::move(publish)),
      control_(std::move(control)),
      cameras_of_(std::move(cameras_of)) {}

std::optional<int64_t> HomeMqtt::generation(const std::string& user_id) {
  const Value p[] = {user_id};
  auto rows = db_.query("SELECT generation FROM mqtt_homes WHERE user_id = $1", p);
  if (!rows || rows->empty()) return std::nullopt;
  return rows->front().integer(0);
}

bool HomeMqtt::enabled(const std::string& user_id) { return generation(user_id).has_value(); }

std::string HomeMqtt::password(const std::string& user_id, int64_t generation) const {
  // 43 characters: 256 bits, as a device secret's strength or better.
  return derive_secret(key_, "home:" + user_id + ":" + std::to_string(generation));
}

std::optional<std::string> HomeMqtt::enable(const std::string& user_id) {
  const Value p[] = {user_id, clock_.now_ms()};
  auto r = db_.execute(
      "INSERT INTO mqtt_homes (user_id, generation, created_at) VALUES ($1, 1, $2) "
      "ON CONFLICT (user_id) DO UPDATE SET generation = mqtt_homes.generation + 1",
      p);
  const auto g = r ? generation(user_id) : std::nullopt;
  if (!g) return std::nullopt;
  const std::string pw = password(user_id, *g);
  auto commands = home_role_commands(user_id, pw);
  // A reset: the client exists already, and its new password cuts off the old one's holder.
  commands.push_back(dynsec::set_client_password(home_username(user_id), pw));
  control_(commands);
  if (consents_.granted(user_id, privacy::kNotifyMqtt)) publish_discovery(user_id);
  spdlog::info("notify.mqtt_enabled user={} generation={}", user_id, *g);
  return pw;
}

void HomeMqtt::disable(const std::string& user_id) {
  clear_discovery(user_id);
  control_({dynsec::delete_client(home_username(user_id)), dynsec::delete_role(role_of(user_id))});
  const Value p[] = {user_id};
  (void)db_.execute("DELETE FROM mqtt_homes WHERE user_id = $1", p);
}

void HomeMqtt::consent_changed(const std::string& user_id, bool granted) {
  if (!enabled(user_id)) return;
  if (granted) {
    publish_discovery(user_id);
  } else {
    clear_discovery(user_id);
  }
}

void HomeMqtt::provision() {
  auto rows = db_.query("SELECT user_id, generation FROM mqtt_homes ORDER BY user_id");
  if (!rows) return;
  std::vector<json> commands;
  {
    std::lock_guard lock(mu_);
    announced_.clear();  // a restarted broker has lost its retained messages
  }
  for (const auto& r : *rows) {
    const std::string user_id = r.text(0);
    auto c = home_role_commands(user_id, password(user_id, r.integer(1)));
    commands.insert(commands.end(), c.begin(), c.end());
  }
  if (!commands.empty()) control_(commands);
  for (const auto& r : *rows) {
    const std::string user_id = r.text(0);
    if (consents_.granted(user_id, privacy::kNotifyMqtt)) publish_discovery(user_id);
  }
}

void HomeMqtt::refresh(const std::string& user_id) {
  if (enabled(user_id) && consents_.granted(user_id, privacy::kNotifyMqtt)) {
    publish_discovery(user_id);
  }
}

void HomeMqtt::forget_device(const std::string& device_id) {
  std::vector<std::string> users;
  {
    std::lock_guard lock(mu_);
    for (const auto& [user_id, cameras] : announced_) {
      if (cameras.contains(device_id)) users.push_back(user_id);
    }
  }
  for (const auto& user_id : users) publish_discovery(user_id);
}

void HomeMqtt::publish_discovery(const std::string& user_id) {
  const auto cameras = cameras_of_(user_id);
  std::set<std::string> now;
  for (const auto& c : cameras) now.insert(c.device_id);
  std::set<std::string> before;
  {
    std::lock_guard lock(mu_);
    before = std::exchange(announced_[user_id], now);
  }
  for (const auto& c : cameras) {
    for (auto kind : kSensors) {
      publish_(discovery_topic(user_id, c.device_id, kind),
               discovery_config(user_id, c, kind).dump(), true);
    }
  }
  // Cameras the person no longer has: their sensors are taken back (an empty retained
  // message deletes them in Home Assistant).
  for (const auto& device_id : before) {
    if (now.contains(device_id)) continue;
    for (auto kind : kSensors) publish_(discovery_topic(user_id, device_id, kind), "", true);
  }
}

void HomeMqtt::clear_discovery(const std::string& user_id) {
  std::set<std::string> before;
  {
    std::lock_guard lock(mu_);
    before = std::move(announced_[user_id]);
    announced_.erase(user_id);
  }
  // Also the cameras the person has now: announced before this process started, perhaps.
  for (const auto& c : cameras_of_(user_id)) before.insert(c.device_id);
  for (const auto& device_id : before) {
    for (auto kind : kSensors) publish_(discovery_topic(user_id, device_id, kind), "", true);
  }
}

void HomeMqtt::deliver(const Notification& n) {
  if (!enabled(n.user_id)) return;
  bool announced = false;
  {
    std::lock_guard lock(mu_);
    const auto it = announced_.find(n.user_id);
    announced = it != announced_.end() && it->second.contains(n.device_id);
  }
  if (!announced) publish_discovery(n.user_id);  // a camera the person gained since
  const std::string root = home_root(n.user_id);
  publish_(root + "events", notification_json(n).dump(), false);
  const std::string kind(events::kind_name(n.kind));
  publish_(root + n.device_id + "/" + kind, "ON", false);
}

}  // namespace nj::notify
