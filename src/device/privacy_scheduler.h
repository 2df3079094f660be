// Turns privacy mode on and off at the edges of each camera's schedule, in its owner's time
// zone. Each edge is applied once: the owner's own switch in between wins until the next edge;
// a camera offline at an edge gets it when it is back (if the edge is still the latest); a new
// schedule set outside its hours changes nothing until its first edge.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "common/clock.h"
#include "common/time_zone.h"
#include "device/registry.h"

namespace nj::device {

class PrivacyScheduler {
 public:
  // Asks the camera to turn privacy mode on or off (config.set); `done(true)` once it did,
  // `done(false)` if it did not (tried again at a later tick). Called at most once at a time
  // per camera.
  using Done = std::function<void(bool applied)>;
  using Apply = std::function<void(const std::string& serial, bool privacy, Done done)>;

  PrivacyScheduler(DeviceRegistry& registry, TimeZones& zones, const Clock& clock, Apply apply)
      : registry_(registry),
        zones_(zones),
        clock_(clock),
        apply_(std::move(apply)),
        busy_(std::make_shared<Busy>()) {}

  // Looks at every scheduled camera once; returns how many changes it asked for.
  size_t tick();

 private:
  // Cameras with a change on its way; shared with the answers, which may come after this
  // scheduler is gone.
  struct Busy {
    std::mutex mutex;
    std::set<std::string> serials;
  };

  DeviceRegistry& registry_;
  TimeZones& zones_;
  const Clock& clock_;
  Apply apply_;
  std::shared_ptr<Busy> busy_;
};

}  // namespace nj::device
