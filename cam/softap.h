// SoftAP provisioning: while the phone is on the camera's own hotspot, the app posts the
// same QR payload the camera could have scanned to a small HTTP endpoint on the camera:
//   GET  /           {"serial","model","firmware","provisioned"}: what the app shows
//   POST /provision  {"payload", "proof"} → 200 {"serial"}; 400 if it is not one; 403 if
//                    the proof (device_protocol::provision_proof with the label's pairing
//                    code) does not match; 429 after repeated wrong proofs; 409 once taken
// Anyone can join a hotspot: the proof keeps a stranger from pointing the camera at another
// cloud. Connections are few per address and time out quickly, so idle ones cannot block
// the app. The payload's Wi-Fi password is never written anywhere. Once provisioned, the
// camera stops listening.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/result.h"
#include "options.h"

namespace nj::net {
class IoPool;
}

namespace nj::cam {

class SoftAp {
 public:
  // identity: {"serial","model","firmware"}, shown to the app. pairing_code: the label's.
  SoftAp(net::IoPool& pool, nlohmann::json identity, std::string pairing_code);
  ~SoftAp();
  // Binds (port 0: any) and serves; returns the port.
  Result<uint16_t, std::string> listen(const std::string& host, uint16_t port);
  // The payload once the app has posted one (waits up to `timeout`).
  std::optional<Provision> wait(std::chrono::milliseconds timeout);
  // Stops listening (connections already open finish). Keep the object until the IoPool
  // has shut down: open connections use it.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nj::cam
