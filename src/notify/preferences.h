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

#include "device/privacy_schedule.h"
#include "device_protocol/json_input.h"
#include "events/event_store.h"
#include "store/database.h"

namespace nj::notify {

enum class Mode { kHome, kAway, kDisarmed };
std::string_view mode_name(Mode m);
std::optional<Mode> parse_mode(std::string_view name);

// Motion, person, sound, the camera's own alarm, and a camera going offline.
std::vector<events::Kind> default_kinds();

// The mode changed by the clock: `in` during the schedule's hours, `out` outside them, in
// the person's time zone (as Ring's modes schedule: Home at night, Away by day).
struct ArmingSchedule {
  device::PrivacySchedule hours;
  Mode in = Mode::kHome;
  Mode out = Mode::kAway;
};
// A privacy schedule's JSON (enabled, time_zone, windows) with "in" and "out" modes.
device_protocol::Parsed<ArmingSchedule> read_arming_schedule(const nlohmann::json& j);
nlohmann::json to_json(const ArmingSchedule& s);

struct Settings {
  Mode mode = Mode::kAway;
  std::vector<events::Kind> kinds = default_kinds();
  std::string quiet_hours;  // a schedule as device::read_privacy_schedule reads it; "" none
  int cooldown_s = 60;
  std::string arming_schedule;  // as read_arming_schedule reads it; "" none
};

// A person whose mode follows a schedule, for the scheduler.
struct ScheduledArming {
  std::string user_id, schedule;
  std::optional<int64_t> edge_ms;  // the last edge applied
  Mode mode = Mode::kAway;
};

struct CameraPrefs {
  bool home = false;  // notifies in Home mode
  bool away = true;   // notifies in Away mode
  std::optional<int64_t> snooze_until_ms;
  // The owner's word on recording events (an events-only plan) in each of their modes.
  bool record_home = true, record_away = true, record_disarmed = true;
};

class Preferences {
 public:
  explicit Preferences(store::Database& db) : db_(db) {}
  Settings settings(std::string_view user_id);
  bool save(std::string_view user_id, const Settings& s);
  CameraPrefs camera(std::string_view user_id, std::string_view device_id);
  bool save_camera(std::string_view user_id, std::string_view device_id, const CameraPrefs& c);
  // Whether an events-only plan records this camera's events now: its owner's mode, and the
  // owner's switch for that mode.
  bool records_events(std::string_view owner_id, std::string_view device_id);
  std::vector<ScheduledArming> scheduled_arming();
  // Sets the mode an edge of the schedule asks for, if the schedule is still `schedule`.
  void apply_arming_edge(std::string_view user_id, std::string_view schedule, int64_t edge_ms,
                         std::optional<Mode> mode);
  // A binding ended: everyone's preferences for the camera go with it.
  void forget_device(std::string_view device_id);

 private:
  store::Database& db_;
};

}  // namespace nj::notify
