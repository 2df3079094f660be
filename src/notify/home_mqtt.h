// Home automation over MQTT: each person who turns it on gets their own topic space on the
// server's broker, `nj/home/{user}/`, and their own credentials (username `home.{user}`, a
// password shown once), allowed to read that space and nothing else. There the server
// publishes each notification (`…/events`, JSON), an ON for the camera's binary sensor
// (`…/{device}/{kind}`; Home Assistant turns it off itself after 30 s), and Home Assistant
// MQTT discovery for each of the person's cameras (motion and person sensors), retained,
// under `…/homeassistant/` (set that as the discovery prefix in Home Assistant). Discovery
// is there only while the person consents to MQTT notifications, like the messages.
// Passwords are not stored: they are derived from the server's key, the person and a
// generation that a reset raises.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "notify/engine.h"
#include "privacy/consents.h"
#include "store/database.h"

namespace nj::notify {

std::string home_root(std::string_view user_id);      // "nj/home/{user}/"
std::string home_username(std::string_view user_id);  // "home.{user}"
// The role a person's broker client gets: read their own space; publish only Home
// Assistant's status message there.
std::vector<nlohmann::json> home_role_commands(std::string_view user_id,
                                               const std::string& password);

struct HomeCamera {
  std::string device_id, name, model;
};

// The discovery config of one camera's sensor ("motion" or "person"), and its topic.
std::string discovery_topic(std::string_view user_id, std::string_view device_id,
                            std::string_view kind);
nlohmann::json discovery_config(std::string_view user_id, const HomeCamera& camera,
                                std::string_view kind);

class HomeMqtt final : public Channel {
 public:
  using Publish =
      std::function<void(const std::string& topic, const std::string& payload, bool retain)>;
  using Control = std::function<void(const std::vector<nlohmann::json>& commands)>;
  using CamerasOf = std::function<std::vector<HomeCamera>(const std::string& user_id)>;

  HomeMqtt(store::Database& db, const Clock& clock, privacy::ConsentLedger& consents,
           std::vector<uint8_t> key, Publish publish, Control control, CamerasOf cameras_of);

  std::string_view purpose() const override { return privacy::kNotifyMqtt; }
  void deliver(const Notification& n) override;

  // Turns it on, or gives a new password (the old one stops working); returns the password.
  std::optional<std::string> enable(const std::string& user_id);
  // Turns it off: the credentials go and the discovery messages are taken back.
  void disable(const std::string& user_id);
  bool enabled(const std::string& user_id);
  // Consent given or withdrawn: discovery is published or taken back.
  void consent_changed(const std::string& user_id, bool granted);
  // Gives the broker every enabled person's credentials and discovery again (after it
  // restarted or the server reconnected); call on every full sync.
  void provision();
  // A person's cameras changed (a share ended, a camera was unbound): discovery follows.
  void refresh(const std::string& user_id);
  // A camera's binding ended: everyone who had its sensors has them taken back.
  void forget_device(const std::string& device_id);

 private:
  std::optional<int64_t> generation(const std::string& user_id);
  std::string password(const std::string& user_id, int64_t generation) const;
  void publish_discovery(const std::string& user_id);
  void clear_discovery(const std::string& user_id);

  store::Database& db_;
  const Clock& clock_;
  privacy::ConsentLedger& consents_;
  std::vector<uint8_t> key_;
  Publish publish_;
  Control control_;
  CamerasOf cameras_of_;
  std::mutex mu_;
  std::map<std::string, std::set<std::string>> announced_;  // user → cameras with discovery
};

}  // namespace nj::notify
