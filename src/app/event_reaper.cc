#include "app/event_reaper.h"

#include <spdlog/spdlog.h>

namespace nj {

size_t reap_events(events::EventStore& store, events::SnapshotFiles& files, recording::Plans& plans,
                   const Clock& clock, int64_t keep_days) {
  const int64_t now = clock.now_ms();
  size_t removed = 0;
  for (const auto& device_id : store.devices_with_events()) {
    const auto plan = plans.in_force(device_id);
    const int64_t days = plan ? plan->plan.retention_days : keep_days;
    const int64_t before = now - days * 86'400'000;
    for (;;) {
      const auto ids = store.ids_of(device_id, before, 500);
      if (ids.empty()) break;
      for (const auto& id : ids) files.remove(device_id, id);
      store.remove_ids(ids);
      removed += ids.size();
    }
  }
  if (removed > 0) spdlog::info("events.reaped count={}", removed);
  return removed;
}

}  // namespace nj
