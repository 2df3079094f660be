#include "notify/preferences.h"

namespace nj::notify {
namespace {

using store::Value;

std::string join(const std::vector<events::Kind>& kinds) {
  std::string out;
  for (auto k : kinds) {
    if (!out.empty()) out += ',';
    out += events::kind_name(k);
  }
  return out;
}

std::vector<events::Kind> split(std::string_view text) {
  std::vector<events::Kind> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    if (auto k = events::parse_kind(text.substr(0, comma))) out.push_back(*k);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return out;
}

}  // namespace

std::string_view mode_name(Mode m) {
  switch (m) {
    case Mode::kHome:
      return "home";
    case Mode::kAway:
      return "away";
    case Mode::kDisarmed:
      return "disarmed";
  }
  return "away";
}

std::optional<Mode> parse_mode(std::string_view name) {
  if (name == "home") return Mode::kHome;
  if (name == "away") return Mode::kAway;
  if (name == "disarmed") return Mode::kDisarmed;
  return std::nullopt;
}

std::vector<events::Kind> default_kinds() {
  return {events::Kind::kMotion, events::Kind::kPerson, events::Kind::kSound,
          events::Kind::kDeviceAlarm, events::Kind::kOffline};
}

device_protocol::Parsed<ArmingSchedule> read_arming_schedule(const nlohmann::json& j) {
  using device_protocol::InputError;
  using device_protocol::Reason;
  if (!j.is_object()) return Unexpected(InputError{Reason::kWrongType, "", "an object"});
  ArmingSchedule out;
  nlohmann::json hours = j;
  for (const char* key : {"in", "out"}) {
    if (!j.contains(key)) continue;
    const auto& v = j[key];
    const auto mode = v.is_string() ? parse_mode(v.get_ref<const std::string&>()) : std::nullopt;
    if (!mode) {
      return Unexpected(InputError{Reason::kOutOfRange, key, "home, away or disarmed"});
    }
    (std::string_view(key) == "in" ? out.in : out.out) = *mode;
    hours.erase(key);
  }
  auto read = device::read_privacy_schedule(hours);
  if (!read) return Unexpected(read.error());
  out.hours = std::move(*read);
  return out;
}

nlohmann::json to_json(const ArmingSchedule& s) {
  auto j = device::to_json(s.hours);
  j["in"] = std::string(mode_name(s.in));
  j["out"] = std::string(mode_name(s.out));
  return j;
}

Settings Preferences::settings(std::string_view user_id) {
  Settings s;
  const Value p[] = {std::string(user_id)};
  auto rows = db_.query(
      "SELECT mode, kinds, quiet_hours, cooldown_s, arming_schedule FROM notify_settings "
      "WHERE user_id = $1",
      p);
  if (!rows || rows->empty()) return s;
  const auto& r = rows->front();
  s.mode = parse_mode(r.text(0)).value_or(Mode::kAway);
  // "" is the defaults; "none" a person who wants no kind at all.
  if (!r.text(1).empty()) s.kinds = split(r.text(1) == "none" ? "" : r.text(1));
  s.quiet_hours = r.text(2);
  s.cooldown_s = static_cast<int>(r.integer(3));
  s.arming_schedule = r.text(4);
  return s;
}

bool Preferences::save(std::string_view user_id, const Settings& s) {
  const Value p[] = {std::string(user_id),
                     std::string(mode_name(s.mode)),
                     s.kinds.empty() ? std::string("none") : join(s.kinds),
                     s.quiet_hours.empty() ? Value{nullptr} : Value{s.quiet_hours},
                     int64_t{s.cooldown_s},
                     s.arming_schedule.empty() ? Value{nullptr} : Value{s.arming_schedule}};
  // A schedule that changed starts over: nothing until its first edge.
  auto r = db_.execute(
      "INSERT INTO notify_settings (user_id, mode, kinds, quiet_hours, cooldown_s, "
      "arming_schedule) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id) DO UPDATE SET "
      "mode = excluded.mode, kinds = excluded.kinds, quiet_hours = excluded.quiet_hours, "
      "cooldown_s = excluded.cooldown_s, arming_edge = CASE WHEN "
      "COALESCE(notify_settings.arming_schedule, '') = COALESCE(excluded.arming_schedule, '') "
      "THEN "
      "notify_settings.arming_edge ELSE NULL END, arming_schedule = excluded.arming_schedule",
      p);
  return r.has_value();
}

std::vector<ScheduledArming> Preferences::scheduled_arming() {
  std::vector<ScheduledArming> out;
  auto rows = db_.query(
      "SELECT user_id, arming_schedule, arming_edge, mode FROM notify_settings "
      "WHERE arming_schedule IS NOT NULL");
  if (!rows) return out;
  for (const auto& r : *rows) {
    out.push_back({r.text(0), r.text(1),
                   r.is_null(2) ? std::nullopt : std::optional<int64_t>(r.integer(2)),
                   parse_mode(r.text(3)).value_or(Mode::kAway)});
  }
  return out;
}

void Preferences::apply_arming_edge(std::string_view user_id, std::string_view schedule,
                                    int64_t edge_ms, std::optional<Mode> mode) {
  const Value p[] = {std::string(user_id), std::string(schedule), edge_ms,
                     mode ? Value{std::string(mode_name(*mode))} : Value{nullptr}};
  (void)db_.execute(
      "UPDATE notify_settings SET arming_edge = $3, mode = COALESCE($4, mode) "
      "WHERE user_id = $1 AND arming_schedule = $2",
      p);
}

CameraPrefs Preferences::camera(std::string_view user_id, std::string_view device_id) {
  CameraPrefs c;
  const Value p[] = {std::string(user_id), std::string(device_id)};
  auto rows = db_.query(
      "SELECT home, away, snooze_until_ms, record_modes FROM notify_cameras WHERE user_id = $1 "
      "AND device_id = $2",
      p);
  if (!rows || rows->empty()) return c;
  const auto& r = rows->front();
  c.home = r.integer(0) != 0;
  c.away = r.integer(1) != 0;
  if (!r.is_null(2)) c.snooze_until_ms = r.integer(2);
  const std::string modes = "," + r.text(3) + ",";
  c.record_home = modes.find(",home,") != std::string::npos;
  c.record_away = modes.find(",away,") != std::string::npos;
  c.record_disarmed = modes.find(",disarmed,") != std::string::npos;
  return c;
}

bool Preferences::records_events(std::string_view owner_id, std::string_view device_id) {
  const CameraPrefs c = camera(owner_id, device_id);
  switch (settings(owner_id).mode) {
    case Mode::kHome:
      return c.record_home;
    case Mode::kAway:
      return c.record_away;
    case Mode::kDisarmed:
      return c.record_disarmed;
  }
  return true;
}

bool Preferences::save_camera(std::string_view user_id, std::string_view device_id,
                              const CameraPrefs& c) {
  std::string modes;
  for (const auto& [on, name] : {std::pair{c.record_home, "home"}, std::pair{c.record_away, "away"},
                                 std::pair{c.record_disarmed, "disarmed"}}) {
    if (!on) continue;
    if (!modes.empty()) modes += ',';
    modes += name;
  }
  const Value p[] = {std::string(user_id),
                     std::string(device_id),
                     int64_t{c.home ? 1 : 0},
                     int64_t{c.away ? 1 : 0},
                     c.snooze_until_ms ? Value{*c.snooze_until_ms} : Value{nullptr},
                     modes};
  auto r = db_.execute(
      "INSERT INTO notify_cameras (user_id, device_id, home, away, snooze_until_ms, "
      "record_modes) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id, device_id) DO UPDATE "
      "SET home = excluded.home, away = excluded.away, snooze_until_ms = excluded.snooze_until_ms, "
      "record_modes = excluded.record_modes",
      p);
  return r.has_value();
}

void Preferences::forget_device(std::string_view device_id) {
  const Value p[] = {std::string(device_id)};
  (void)db_.execute("DELETE FROM notify_cameras WHERE device_id = $1", p);
}

}  // namespace nj::notify
