#include "device/privacy_schedule.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace nj::device {
namespace {

using device_protocol::ObjectReader;
using device_protocol::Reason;
using nlohmann::json;

constexpr std::array<std::string_view, 7> kDayNames = {"mon", "tue", "wed", "thu",
                                                       "fri", "sat", "sun"};
constexpr int64_t kDaySeconds = 86400;
constexpr int64_t kWeekMs = 7 * kDaySeconds * 1000;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// "HH:MM", 00:00–23:59.
std::optional<int> read_minute(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  for (size_t i : {0, 1, 3, 4}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  const int h = (s[0] - '0') * 10 + (s[1] - '0');
  const int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

std::string format_minute(int minute) {
  const int h = minute / 60, m = minute % 60;  // 0–1439, as read_minute made it
  return {char('0' + h / 10), char('0' + h % 10), ':', char('0' + m / 10), char('0' + m % 10)};
}

std::optional<PrivacyWindow> read_window(const json& j, const std::string& field,
                                         ObjectReader& outer) {
  if (!j.is_object()) {
    outer.fail(Reason::kWrongType, field, "a window is an object");
    return std::nullopt;
  }
  ObjectReader r(j);
  for (const auto& [key, value] : j.items()) {
    if (key != "days" && key != "start" && key != "end") {
      outer.fail(Reason::kUnknown, field + "." + key, "a window has days, start and end");
      return std::nullopt;
    }
  }
  const json* days = r.field("days", true);
  auto start = r.string("start", 5, true);
  auto end = r.string("end", 5, true);
  if (!r.ok()) {
    const auto& e = *r.error();
    outer.fail(e.reason, field + "." + e.field, e.message);
    return std::nullopt;
  }
  PrivacyWindow w;
  if (!days->is_array() || days->empty() || days->size() > 7) {
    outer.fail(Reason::kWrongType, field + ".days", "days is a list of mon, tue, … sun");
    return std::nullopt;
  }
  for (const json& d : *days) {
    const auto* name = d.get_ptr<const std::string*>();
    const auto it = name ? std::find(kDayNames.begin(), kDayNames.end(), *name) : kDayNames.end();
    if (it == kDayNames.end()) {
      outer.fail(Reason::kOutOfRange, field + ".days", "days is a list of mon, tue, … sun");
      return std::nullopt;
    }
    w.days |= static_cast<uint8_t>(1u << (it - kDayNames.begin()));
  }
  auto s = read_minute(*start);
  auto e = read_minute(*end);
  if (!s || !e) {
    outer.fail(Reason::kOutOfRange, field + (s ? ".end" : ".start"), "a time is HH:MM, 24-hour");
    return std::nullopt;
  }
  if (*s == *e) {
    outer.fail(Reason::kOutOfRange, field + ".end", "a window cannot end when it starts");
    return std::nullopt;
  }
  w.start_minute = *s;
  w.end_minute = *e;
  return w;
}

}  // namespace

device_protocol::Parsed<PrivacySchedule> read_privacy_schedule(const json& j) {
  using device_protocol::InputError;
  if (!j.is_object()) {
    return Unexpected(InputError{Reason::kWrongType, "", "a schedule is an object"});
  }
  for (const auto& [key, value] : j.items()) {
    if (key != "enabled" && key != "time_zone" && key != "windows") {
      return Unexpected(
          InputError{Reason::kUnknown, key, "a schedule has enabled, time_zone and windows"});
    }
  }
  ObjectReader r(j);
  PrivacySchedule s;
  s.enabled = r.boolean("enabled").value_or(true);
  auto zone = r.string("time_zone", 64, true);
  const json* windows = r.field("windows", true);
  if (!r.ok()) return Unexpected(*r.error());
  if (!TimeZone::valid_name(*zone)) {
    return Unexpected(InputError{Reason::kOutOfRange, "time_zone", "not a time zone name"});
  }
  s.time_zone = *zone;
  if (!windows->is_array() || windows->empty() || windows->size() > kMaxPrivacyWindows) {
    return Unexpected(InputError{Reason::kWrongType, "windows", "windows is a list of 1 to 8"});
  }
  for (size_t i = 0; i < windows->size(); ++i) {
    auto w = read_window((*windows)[i], "windows." + std::to_string(i), r);
    if (!w) return Unexpected(*r.error());
    s.windows.push_back(*w);
  }
  return s;
}

json to_json(const PrivacySchedule& s) {
  json windows = json::array();
  for (const auto& w : s.windows) {
    json days = json::array();
    for (size_t d = 0; d < kDayNames.size(); ++d) {
      if (w.days & (1u << d)) days.push_back(kDayNames[d]);
    }
    windows.push_back({{"days", days},
                       {"start", format_minute(w.start_minute)},
                       {"end", format_minute(w.end_minute)}});
  }
  return {{"enabled", s.enabled}, {"time_zone", s.time_zone}, {"windows", windows}};
}

std::vector<Stretch> scheduled_stretches(const PrivacySchedule& s, const TimeZone& zone,
                                         int64_t from_ms, int64_t to_ms) {
  const int64_t from_s = floor_div(from_ms, 1000), to_s = floor_div(to_ms, 1000);
  // Local days from the one before `from` (its overnight window reaches into it) to `to`.
  const int64_t first_day = floor_div(from_s + zone.offset_at(from_s), kDaySeconds) - 1;
  const int64_t last_day = floor_div(to_s + zone.offset_at(to_s), kDaySeconds);
  std::vector<Stretch> all;
  for (int64_t day = first_day; day <= last_day; ++day) {
    const int weekday = static_cast<int>(((day % 7) + 10) % 7);  // 1970-01-01: Thursday (3)
    for (const auto& w : s.windows) {
      if (!(w.days & (1u << weekday))) continue;
      const int64_t start_local = day * kDaySeconds + int64_t{w.start_minute} * 60;
      const int64_t end_day = w.end_minute > w.start_minute ? day : day + 1;
      const int64_t end_local = end_day * kDaySeconds + int64_t{w.end_minute} * 60;
      const int64_t start = zone.to_utc(start_local) * 1000, end = zone.to_utc(end_local) * 1000;
      if (end > start) all.push_back({start, end});
    }
  }
  std::sort(all.begin(), all.end(),
            [](const Stretch& a, const Stretch& b) { return a.start_ms < b.start_ms; });
  std::vector<Stretch> joined;
  for (const auto& st : all) {
    if (!joined.empty() && st.start_ms <= joined.back().end_ms) {
      joined.back().end_ms = std::max(joined.back().end_ms, st.end_ms);
    } else {
      joined.push_back(st);
    }
  }
  std::erase_if(joined,
                [&](const Stretch& st) { return st.end_ms <= from_ms || st.start_ms >= to_ms; });
  return joined;
}

ScheduleEdge last_edge(const PrivacySchedule& s, const TimeZone& zone, int64_t now_ms) {
  // A weekly schedule with any gap turns on and off within every week; look back two, and
  // trust only what lies within the last one (plus a day for the clocks' changes).
  const auto stretches = scheduled_stretches(s, zone, now_ms - 2 * kWeekMs, now_ms + 1);
  std::optional<ScheduleEdge> last;
  bool inside = false;
  for (const auto& st : stretches) {
    if (st.start_ms <= now_ms) last = ScheduleEdge{st.start_ms, true};
    if (st.end_ms <= now_ms) last = ScheduleEdge{st.end_ms, false};
    if (st.start_ms <= now_ms && now_ms < st.end_ms) inside = true;
  }
  const int64_t trusted_from = now_ms - kWeekMs - kDaySeconds * 1000;
  if (!last || last->at_ms < trusted_from) return ScheduleEdge{0, inside};
  return *last;
}

std::optional<ScheduleEdge> next_edge(const PrivacySchedule& s, const TimeZone& zone,
                                      int64_t now_ms) {
  const auto stretches = scheduled_stretches(s, zone, now_ms, now_ms + 2 * kWeekMs);
  std::optional<ScheduleEdge> next;
  for (const auto& st : stretches) {
    if (st.start_ms > now_ms) {
      next = ScheduleEdge{st.start_ms, true};
      break;
    }
    if (st.end_ms > now_ms) {
      next = ScheduleEdge{st.end_ms, false};
      break;
    }
  }
  const int64_t trusted_to = now_ms + kWeekMs + kDaySeconds * 1000;
  if (!next || next->at_ms > trusted_to) return std::nullopt;
  return next;
}

}  // namespace nj::device
