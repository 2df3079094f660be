// Devices as their owners see them: binding by one-time token (the QR code's), listing,
// renaming, unbinding, and the check made on every device-scoped request — who may do what
// with which device — straight from the database, never from a cache.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "device/registry.h"
#include "store/database.h"

namespace nj::device {

// What a person may do with a device, in growing order (sharing adds the lower ones).
enum class Role { kViewer = 1, kFamily = 2, kAdmin = 3, kOwner = 4 };
std::string_view role_name(Role r);

struct BindToken {
  std::string token;  // give to the client once; only its hash is kept
  int64_t expires_at = 0;
};

struct OwnedDevice {
  Device device;
  Role role = Role::kOwner;
};

class DeviceService {
 public:
  DeviceService(store::Database& db, DeviceRegistry& registry, const Clock& clock,
                int64_t bind_token_ttl_ms = 10 * 60 * 1000)
      : db_(db), registry_(registry), clock_(clock), bind_ttl_ms_(bind_token_ttl_ms) {}

  DResult<BindToken> create_bind_token(const std::string& user_id);
  // A device presents a token (over MQTT, from its own authenticated connection): if the
  // token is unused and unexpired, the device is bound to the token's account, enabled,
  // and the token is spent. A device bound to someone else must be unbound first.
  DResult<Device> claim(const std::string& serial, const std::string& token);
  // The token is this person's, unused and unexpired (to draw its QR code again).
  bool bind_token_usable(const std::string& user_id, const std::string& token);

  // Devices the person owns (shared ones follow with sharing).
  std::vector<OwnedDevice> list(const std::string& user_id);
  // The device if the person may see it, with their role; kNotFound otherwise (never
  // revealing that it exists).
  DResult<OwnedDevice> get(const std::string& user_id, const std::string& device_id);
  // The person's role for a device by serial (media requests name devices by serial).
  std::optional<Role> role_by_serial(const std::string& user_id, const std::string& serial);
  DResult<OwnedDevice> rename(const std::string& user_id, const std::string& device_id,
                              const std::string& name);
  // Owner only. Afterwards the device has no owner and its credentials are disabled;
  // `stopped` is told the serial so that running streams are cut at once.
  DResult<void> unbind(const std::string& user_id, const std::string& device_id,
                       const std::function<void(const std::string& serial)>& stopped);

 private:
  store::Database& db_;
  DeviceRegistry& registry_;
  const Clock& clock_;
  int64_t bind_ttl_ms_;
};

}  // namespace nj::device
