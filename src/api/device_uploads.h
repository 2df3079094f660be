// What cameras upload over HTTP with their own credentials (HTTP Basic: serial and device
// secret), beside their MQTT control plane:
//   PUT /api/v1/device/events/{id}/snapshot.jpg   the picture of an event the server asked
//                                                 the camera for (event.snapshot), once
// 204 taken; 401 wrong credentials; 404 not asked of this camera (another camera's event,
// an event never asked for, or answered already); 413 over 512 KB; 415 not a JPEG. Every
// outcome is counted; nothing refused is kept.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/worker_pool.h"
#include "device/registry.h"
#include "events/camera_snapshots.h"
#include "http/router.h"

namespace nj::api {

// "Basic base64(user:password)" → the two, or nullopt.
std::optional<std::pair<std::string, std::string>> basic_credentials(std::string_view header);

class DeviceUploadsApi {
 public:
  using Counter = std::function<void(std::string_view outcome)>;
  // Checking the credentials and writing the picture run on `workers`, off the event loop.
  DeviceUploadsApi(device::DeviceRegistry& registry, events::CameraSnapshotTaker& snapshots,
                   WorkerPool& workers, Counter count)
      : registry_(registry), snapshots_(snapshots), workers_(workers), count_(std::move(count)) {}
  void install(http::Router& router);

 private:
  device::DeviceRegistry& registry_;
  events::CameraSnapshotTaker& snapshots_;
  WorkerPool& workers_;
  Counter count_;
};

}  // namespace nj::api
