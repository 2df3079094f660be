#include "device/privacy_scheduler.h"

#include "device/privacy_schedule.h"
#include "device_protocol/json_input.h"

namespace nj::device {

size_t PrivacyScheduler::tick() {
  const int64_t now = clock_.now_ms();
  size_t asked = 0;
  for (const Device& d : registry_.scheduled()) {
    // Stored by the API after read_privacy_schedule accepted it; read the same way back.
    auto j = device_protocol::parse_json(d.privacy_schedule, {16 * 1024, 4});
    if (!j) continue;
    auto schedule = read_privacy_schedule(*j);
    if (!schedule || !schedule->enabled) continue;
    auto zone = zones_.find(schedule->time_zone);
    if (!zone) continue;
    const ScheduleEdge edge = last_edge(*schedule, *zone, now);
    if (d.privacy_schedule_edge && *d.privacy_schedule_edge >= edge.at_ms) continue;
    // Set outside its hours: nothing to do until its first edge. And a camera already as the
    // edge wants it needs nothing either.
    if ((!d.privacy_schedule_edge && !edge.privacy) || d.privacy_mode() == edge.privacy) {
      registry_.mark_schedule_edge(d.id, d.privacy_schedule, edge.at_ms);
      continue;
    }
    if (!d.online) continue;  // it gets the edge when it is back
    {
      std::lock_guard lock(busy_->mutex);
      if (!busy_->serials.insert(d.serial).second) continue;
    }
    ++asked;
    apply_(d.serial, edge.privacy,
           [busy = busy_, &registry = registry_, id = d.id, schedule = d.privacy_schedule,
            serial = d.serial, at = edge.at_ms](bool applied) {
             if (applied) registry.mark_schedule_edge(id, schedule, at);
             std::lock_guard lock(busy->mutex);
             busy->serials.erase(serial);
           });
  }
  return asked;
}

}  // namespace nj::device
