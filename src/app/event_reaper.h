// Events are kept as long as their camera's recording plan keeps video (its retention), and
// `keep_days` for a camera without one; older ones go with their pictures, picture first.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/clock.h"
#include "events/event_store.h"
#include "events/snapshot_files.h"
#include "recording/plans.h"

namespace nj {

// Returns how many events were deleted.
size_t reap_events(events::EventStore& store, events::SnapshotFiles& files, recording::Plans& plans,
                   const Clock& clock, int64_t keep_days);

}  // namespace nj
