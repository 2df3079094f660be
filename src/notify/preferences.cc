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

Settings Preferences::settings(std::string_view user_id) {
  Settings s;
  const Value p[] = {std::string(user_id)};
  auto rows = db_.query(
      "SELECT mode, kinds, quiet_hours, cooldown_s FROM notify_settings WHERE user_id = $1", p);
  if (!rows || rows->empty()) return s;
  const auto& r = rows->front();
  s.mode = parse_mode(r.text(0)).value_or(Mode::kAway);
  // "" is the defaults; "none" a person who wants no kind at all.
  if (!r.text(1).empty()) s.kinds = split(r.text(1) == "none" ? "" : r.text(1));
  s.quiet_hours = r.text(2);
  s.cooldown_s = static_cast<int>(r.integer(3));
  return s;
}

bool Preferences::save(std::string_view user_id, const Settings& s) {
  const Value p[] = {std::string(user_id), std::string(mode_name(s.mode)),
                     s.kinds.empty() ? std::string("none") : join(s.kinds),
                     s.quiet_hours.empty() ? Value{nullptr} : Value{s.quiet_hours},
                     int64_t{s.cooldown_s}};
  auto r = db_.execute(
      "INSERT INTO notify_settings (user_id, mode, kinds, quiet_hours, cooldown_s) "
      "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE SET mode = excluded.mode, "
      "kinds = excluded.kinds, quiet_hours = excluded.quiet_hours, "
      "cooldown_s = excluded.cooldown_s",
      p);
  return r.has_value();
}

CameraPrefs Preferences::camera(std::string_view user_id, std::string_view device_id) {
  CameraPrefs c;
  const Value p[] = {std::string(user_id), std::string(device_id)};
  auto rows = db_.query(
      "SELECT home, away, snooze_until_ms FROM notify_cameras WHERE user_id = $1 AND "
      "device_id = $2",
      p);
  if (!rows || rows->empty()) return c;
  const auto& r = rows->front();
  c.home = r.integer(0) != 0;
  c.away = r.integer(1) != 0;
  if (!r.is_null(2)) c.snooze_until_ms = r.integer(2);
  return c;
}

bool Preferences::save_camera(std::string_view user_id, std::string_view device_id,
                              const CameraPrefs& c) {
  const Value p[] = {std::string(user_id), std::string(device_id), int64_t{c.home ? 1 : 0},
                     int64_t{c.away ? 1 : 0},
                     c.snooze_until_ms ? Value{*c.snooze_until_ms} : Value{nullptr}};
  auto r = db_.execute(
      "INSERT INTO notify_cameras (user_id, device_id, home, away, snooze_until_ms) "
      "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, device_id) DO UPDATE SET "
      "home = excluded.home, away = excluded.away, snooze_until_ms = excluded.snooze_until_ms",
      p);
  return r.has_value();
}

void Preferences::forget_device(std::string_view device_id) {
  const Value p[] = {std::string(device_id)};
  (void)db_.execute("DELETE FROM notify_cameras WHERE device_id = $1", p);
}

}  // namespace nj::notify
