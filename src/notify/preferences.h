// What each person wants to be told about, and when not: the arming mode (Home, Away,
// Disarmed, as in Ring's modes), which cameras notify in Home and in Away, a snooze per
// camera, the kinds of event that notify, quiet hours (a weekly schedule in their time zone)
// and the cooldown within which further events of one camera and kind are grouped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/event_store.h"
#include "store/database.h"

namespace nj::notify {

enum class Mode { kHome, kAway, kDisarmed };
std::string_view mode_name(Mode m);
std::optional<Mode> parse_mode(std::string_view name);

// Motion, person, sound, the camera's own alarm, and a camera going offline.
std::vector<events::Kind> default_kinds();

struct Settings {
  Mode mode = Mode::kAway;
  std::vector<events::Kind> kinds = default_kinds();
  std::string quiet_hours;  // a schedule as device::read_privacy_schedule reads it; "" none
  int cooldown_s = 60;
};

struct CameraPrefs {
  bool home = false;  // notifies in Home mode
  bool away = true;   // notifies in Away mode
  std::optional<int64_t> snooze_until_ms;
};

class Preferences {
 public:
  explicit Preferences(store::Database& db) : db_(db) {}
  Settings settings(std::string_view user_id);
  bool save(std::string_view user_id, const Settings& s);
  CameraPrefs camera(std::string_view user_id, std::string_view device_id);
  bool save_camera(std::string_view user_id, std::string_view device_id, const CameraPrefs& c);
  // A binding ended: everyone's preferences for the camera go with it.
  void forget_device(std::string_view device_id);

 private:
  store::Database& db_;
};

}  // namespace nj::notify
