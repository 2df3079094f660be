// Bindings that change outside this process (an operator's `nightjar admin device unbind`;
// later, another node) are noticed here by each device's binding generation, within a tick,
// and ended as an unbind in this process ends them: what was opened under the earlier
// binding is closed, and a device left unbound gets every effect of an unbind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "device/access_watch.h"
#include "device/registry.h"

namespace nj::device {

class BindingSweep {
 public:
  using Unbound = std::function<void(const std::string& serial)>;
  BindingSweep(DeviceRegistry& registry, AccessWatch& watch, Unbound unbound)
      : registry_(registry), watch_(watch), unbound_(std::move(unbound)) {}

  // Compares every device's binding generation with the last tick's; returns how many
  // changed. The first tick only learns them.
  size_t tick();

 private:
  DeviceRegistry& registry_;
  AccessWatch& watch_;
  Unbound unbound_;
  bool first_ = true;
  std::map<std::string, int64_t> seen_;  // serial → binding generation at the last tick
};

}  // namespace nj::device
