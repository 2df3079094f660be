#include "notify/arming.h"

#include <spdlog/spdlog.h>

#include "device/privacy_schedule.h"
#include "device_protocol/json_input.h"

namespace nj::notify {

size_t ArmingScheduler::tick() {
  const int64_t now = clock_.now_ms();
  size_t changed = 0;
  for (const auto& a : prefs_.scheduled_arming()) {
    // Stored after read_arming_schedule accepted it; read back the same way.
    auto j = device_protocol::parse_json(a.schedule, {16 * 1024, 4});
    if (!j) continue;
    auto schedule = read_arming_schedule(*j);
    if (!schedule || !schedule->hours.enabled) continue;
    auto zone = zones_.find(schedule->hours.time_zone);
    if (!zone) continue;
    const auto edge = device::last_edge(schedule->hours, *zone, now);
    if (a.edge_ms && *a.edge_ms >= edge.at_ms) continue;
    const Mode wanted = edge.privacy ? schedule->in : schedule->out;
    // Saved outside its hours: nothing until its first edge (only remembered as seen).
    if (!a.edge_ms && !edge.privacy) {
      prefs_.apply_arming_edge(a.user_id, a.schedule, edge.at_ms, std::nullopt);
      continue;
    }
    prefs_.apply_arming_edge(a.user_id, a.schedule, edge.at_ms, wanted);
    if (wanted != a.mode) {
      ++changed;
      spdlog::info("notify.arming_scheduled user={} mode={}", a.user_id, mode_name(wanted));
    }
  }
  return changed;
}

bool RecordGate::allows(const std::string& serial) {
  const int64_t now = steady_now_us();
  {
    std::lock_guard lock(mu_);
    const auto it = answers_.find(serial);
    if (it != answers_.end() && it->second.until_us > now) return it->second.allowed;
    if (answers_.size() > 100'000) answers_.clear();  // bounded, whatever the serials
  }
  const auto binding = binding_of_(serial);
  const bool allowed = !binding || prefs_.records_events(binding->owner_id, binding->device_id);
  std::lock_guard lock(mu_);
  answers_[serial] = {allowed, now + 1'000'000};
  return allowed;
}

std::optional<ArmingChange> next_arming_change(const ArmingSchedule& s, const TimeZone& zone,
                                               int64_t now_ms) {
  if (!s.hours.enabled) return std::nullopt;
  const auto edge = device::next_edge(s.hours, zone, now_ms);
  if (!edge) return std::nullopt;
  return ArmingChange{edge->at_ms, edge->privacy ? s.in : s.out};
}

}  // namespace nj::notify
