// Server-side detection for one camera, set by its owner (or an admin they chose):
//   GET   /api/v1/devices/{id}/detection    {"enabled","zones","min_area","threshold","person"}
//   PATCH /api/v1/devices/{id}/detection    the same fields (zones replace the old ones)
// Turning it on keeps the camera streaming to the server, which looks at its keyframes;
// what it sees becomes motion and person events like the camera's own reports.
#pragma once

#include <functional>

#include "api/guard.h"
#include "detect/motion.h"
#include "detect/service.h"
#include "device/service.h"
#include "http/router.h"

namespace nj::api {

class DetectionApi {
 public:
  DetectionApi(const Guard& guard, device::DeviceService& devices, detect::SettingsStore& store,
               std::function<void()> changed)
      : guard_(guard), devices_(devices), store_(store), changed_(std::move(changed)) {}
  void install(http::Router& router);

 private:
  const Guard& guard_;
  device::DeviceService& devices_;
  detect::SettingsStore& store_;
  std::function<void()> changed_;
};

}  // namespace nj::api
