// A camera's privacy-mode schedule, in its owner's hours: "every night 22:00–07:00" or
// "weekdays 08:00–18:00", in an IANA time zone. The server keeps it and turns privacy mode
// on and off at its edges (PrivacyScheduler); in between, the owner's own switch wins until
// the next edge, as in the consumer camera apps people know.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/time_zone.h"
#include "device_protocol/json_input.h"

namespace nj::device {

struct PrivacyWindow {
  uint8_t days = 0;      // the days it starts on: bit 0 Monday … bit 6 Sunday
  int start_minute = 0;  // 0–1439, local
  int end_minute = 0;    // 0–1439; at or before the start means the next day
};

struct PrivacySchedule {
  bool enabled = true;
  std::string time_zone;  // IANA name; checked against the installed zones by the caller
  std::vector<PrivacyWindow> windows;
};

inline constexpr size_t kMaxPrivacyWindows = 8;

// {"enabled": bool (default true), "time_zone": "Europe/Berlin",
//  "windows": [{"days": ["mon", …], "start": "22:00", "end": "07:00"}]}; anything else is
// refused, naming the field. A window may not start and end at the same minute.
device_protocol::Parsed<PrivacySchedule> read_privacy_schedule(const nlohmann::json& j);
nlohmann::json to_json(const PrivacySchedule& s);

// A moment the schedule turns privacy mode on (privacy) or off.
struct ScheduleEdge {
  int64_t at_ms = 0;
  bool privacy = false;
};

// The scheduled stretches that overlap [from_ms, to_ms), overlapping and touching windows
// joined into one, in UTC milliseconds.
struct Stretch {
  int64_t start_ms, end_ms;
};
std::vector<Stretch> scheduled_stretches(const PrivacySchedule& s, const TimeZone& zone,
                                         int64_t from_ms, int64_t to_ms);

// The last edge at or before now, and the next one after it. A schedule that never ends
// (windows covering the whole week) has no edges; its state is then reported as an edge at
// time 0, so it is applied once and not again.
ScheduleEdge last_edge(const PrivacySchedule& s, const TimeZone& zone, int64_t now_ms);
std::optional<ScheduleEdge> next_edge(const PrivacySchedule& s, const TimeZone& zone,
                                      int64_t now_ms);

}  // namespace nj::device
