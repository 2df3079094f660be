#include "device/binding_sweep.h"

#include <spdlog/spdlog.h>

namespace nj::device {

size_t BindingSweep::tick() {
  size_t changed = 0;
  for (const auto& d : registry_.all()) {
    auto [it, added] = seen_.try_emplace(d.serial, d.binding_generation);
    if (first_ || it->second == d.binding_generation) continue;
    it->second = d.binding_generation;
    ++changed;
    const size_t closed = watch_.end_older(d.serial, d.binding_generation);
    spdlog::info("device.binding_changed serial={} generation={} bound={} closed={}", d.serial,
                 d.binding_generation, d.owner_id.has_value(), closed);
    // Unbound (by whoever): everything of the binding ends here too. Idempotent, so an
    // unbind this process already acted on costs only a repeat.
    if (!d.owner_id && unbound_) unbound_(d.serial);
  }
  first_ = false;
  return changed;
}

}  // namespace nj::device
