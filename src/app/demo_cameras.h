// `nightjar serve --demo`: two simulated cameras bound to the demo account, so that a
// newcomer sees live video at once. Each is a real `nightjar-cam --simulate` child process
// with its own secret, bound the way any camera is: by presenting a bind token.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/child_process.h"
#include "device/registry.h"
#include "device/service.h"
#include "store/database.h"

namespace nj::app {

class DemoCameras {
 public:
  struct Options {
    std::filesystem::path data_dir;
    std::string demo_email;
    std::string server_url, mqtt_url;
    std::string mqtts_url, broker_cert;  // the broker over TLS, as a QR payload gives it
  };
  // Starts what it can; a camera that cannot start is logged and skipped.
  static std::unique_ptr<DemoCameras> start(store::Database& db, device::DeviceRegistry& registry,
                                            device::DeviceService& devices, const Options& options);
  ~DemoCameras() = default;  // the children are stopped

 private:
  std::vector<ChildProcess> children_;
};

}  // namespace nj::app
