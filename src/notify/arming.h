// Arming on a schedule: each person whose mode follows a weekly schedule gets the schedule's
// "in" mode at each start of its hours and its "out" mode at each end, in their time zone.
// Each edge is applied once, so the person's own one-tap choice in between holds until the
// next edge; a schedule saved outside its hours changes nothing until its first edge.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/time_zone.h"
#include "notify/preferences.h"

namespace nj::notify {

class ArmingScheduler {
 public:
  ArmingScheduler(Preferences& prefs, TimeZones& zones, const Clock& clock)
      : prefs_(prefs), zones_(zones), clock_(clock) {}
  // Looks at every schedule once; returns how many modes it changed.
  size_t tick();

 private:
  Preferences& prefs_;
  TimeZones& zones_;
  const Clock& clock_;
};

// Whether an events-only plan records a camera's event now, by its owner's mode and their
// switch for that mode. Each answer is kept a second: a flood of reports asks the database
// once a second per camera, and a change of mode holds within that second.
class RecordGate {
 public:
  struct Binding {
    std::string owner_id, device_id;
  };
  using BindingOf = std::function<std::optional<Binding>(const std::string& serial)>;
  RecordGate(Preferences& prefs, BindingOf binding_of)
      : prefs_(prefs), binding_of_(std::move(binding_of)) {}
  bool allows(const std::string& serial);

 private:
  struct Answer {
    bool allowed = true;
    int64_t until_us = 0;
  };
  Preferences& prefs_;
  BindingOf binding_of_;
  std::mutex mu_;
  std::map<std::string, Answer> answers_;
};

// The next change a schedule will make after now: when, and to which mode.
struct ArmingChange {
  int64_t at_ms = 0;
  Mode mode = Mode::kAway;
};
std::optional<ArmingChange> next_arming_change(const ArmingSchedule& s, const TimeZone& zone,
                                               int64_t now_ms);

}  // namespace nj::notify
