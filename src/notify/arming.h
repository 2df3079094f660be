// Arming on a schedule: each person whose mode follows a weekly schedule gets the schedule's
// "in" mode at each start of its hours and its "out" mode at each end, in their time zone.
// Each edge is applied once, so the person's own one-tap choice in between holds until the
// next edge; a schedule saved outside its hours changes nothing until its first edge.
#pragma once

#include <cstddef>
#include <optional>

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

// The next change a schedule will make after now: when, and to which mode.
struct ArmingChange {
  int64_t at_ms = 0;
  Mode mode = Mode::kAway;
};
std::optional<ArmingChange> next_arming_change(const ArmingSchedule& s, const TimeZone& zone,
                                               int64_t now_ms);

}  // namespace nj::notify
