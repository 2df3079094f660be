#include "device/service.h"

#include "device/key_file.h"

namespace nj::device {
namespace {

using store::Value;

DeviceError not_found() { return DeviceError{Errc::kNotFound, "no such device", {}}; }

DeviceError internal(const store::StoreError& e) {
  return DeviceError{Errc::kInternal, e.message, {}};
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

std::string_view role_name(Role r) {
  switch (r) {
    case Role::kViewer:
      return "viewer";
    case Role::kFamily:
      return "family";
    case Role::kAdmin:
      return "admin";
    case Role::kOwner:
      return "owner";
  }
  return "viewer";
}

DResult<BindToken> DeviceService::create_bind_token(const std::string& user_id) {
  BindToken t;
  t.token = random_token(24);
  t.expires_at = clock_.now_ms() + bind_ttl_ms_;
  const Value p[] = {sha256_hex(t.token), user_id, clock_.now_ms(), t.expires_at};
  auto r = db_.execute(
      "INSERT INTO bind_tokens (token_hash, user_id, created_at, expires_at) "
      "VALUES ($1, $2, $3, $4)",
      p);
  if (!r) return Unexpected(internal(r.error()));
  return t;
}

DResult<Device> DeviceService::claim(const std::string& serial, const std::string& token) {
  auto device = registry_.by_serial(serial);
  if (!device) return Unexpected(device.error());
  if (token.empty() || token.size() > 128) {
    return Unexpected(DeviceError{Errc::kInvalidInput, "no valid bind token", "token"});
  }
  const int64_t now = clock_.now_ms();
  DeviceError refusal{Errc::kInvalidInput, "the bind token is unknown, used or expired", "token"};
  bool refused = false;
  auto done = db_.transaction([&](store::Database& tx) -> store::StoreResult<void> {
    const Value q[] = {sha256_hex(token), now};
    auto rows = tx.query(
        "SELECT t.user_id FROM bind_tokens t JOIN users u ON u.id = t.user_id "
        "WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > $2 "
        "AND u.status = 'active'",
        q);
    if (!rows) return Unexpected(rows.error());
    if (rows->empty()) {
      refused = true;
      return {};
    }
    const std::string user_id = rows->front().text(0);
    if (device->owner_id && *device->owner_id != user_id) {
      refusal = DeviceError{Errc::kConflict, "the device is bound to another account", "serial"};
      refused = true;
      return {};
    }
    const Value spend[] = {sha256_hex(token), now, device->id};
    if (auto r = tx.execute(
            "UPDATE bind_tokens SET used_at = $2, device_id = $3 WHERE token_hash = $1", spend);
        !r) {
      return Unexpected(r.error());
    }
    const Value bind[] = {device->id, user_id, now,
                          device->name.empty()
                              ? (device->model.empty() ? device->serial : device->model)
                              : device->name};
    if (auto r =
            tx.execute("UPDATE devices SET owner_id = $2, bound_at = $3, enabled = 1, name = $4 "
                       "WHERE id = $1",
                       bind);
        !r) {
      return Unexpected(r.error());
    }
    return {};
  });
  if (!done) return Unexpected(internal(done.error()));
  if (refused) return Unexpected(refusal);
  return registry_.by_id(device->id);
}

bool DeviceService::bind_token_usable(const std::string& user_id, const std::string& token) {
  if (token.empty() || token.size() > 128) return false;
  const Value p[] = {sha256_hex(token), user_id, clock_.now_ms()};
  auto rows = db_.query(
      "SELECT 1 FROM bind_tokens WHERE token_hash = $1 AND user_id = $2 AND used_at IS NULL "
      "AND expires_at > $3",
      p);
  return rows && !rows->empty();
}

std::vector<OwnedDevice> DeviceService::list(const std::string& user_id) {
  std::vector<OwnedDevice> out;
  for (auto& d : registry_.owned_by(user_id)) out.push_back({std::move(d), Role::kOwner});
  return out;
}

DResult<OwnedDevice> DeviceService::get(const std::string& user_id, const std::string& device_id) {
  auto device = registry_.by_id(device_id);
  if (!device) return Unexpected(not_found());
  if (!device->owner_id || *device->owner_id != user_id) return Unexpected(not_found());
  return OwnedDevice{std::move(*device), Role::kOwner};
}

std::optional<Role> DeviceService::role_by_serial(const std::string& user_id,
                                                  const std::string& serial) {
  auto device = registry_.by_serial(serial);
  if (!device || !device->owner_id || *device->owner_id != user_id) return std::nullopt;
  return Role::kOwner;
}

DResult<OwnedDevice> DeviceService::rename(const std::string& user_id, const std::string& device_id,
                                           const std::string& name) {
  auto owned = get(user_id, device_id);
  if (!owned) return owned;
  if (owned->role < Role::kAdmin) return Unexpected(not_found());
  if (!valid_name(name)) {
    return Unexpected(DeviceError{Errc::kInvalidInput, "a name is 1 to 64 characters", "name"});
  }
  const Value p[] = {device_id, name};
  if (auto r = db_.execute("UPDATE devices SET name = $2 WHERE id = $1", p); !r) {
    return Unexpected(internal(r.error()));
  }
  owned->device.name = name;
  return owned;
}

DResult<void> DeviceService::unbind(const std::string& user_id, const std::string& device_id,
                                    const std::function<void(const std::string&)>& stopped) {
  auto owned = get(user_id, device_id);
  if (!owned) return Unexpected(owned.error());
  if (owned->role != Role::kOwner) return Unexpected(not_found());
  const Value p[] = {device_id, user_id};
  auto r = db_.execute(
      "UPDATE devices SET owner_id = NULL, bound_at = NULL, enabled = 0, name = '' "
      "WHERE id = $1 AND owner_id = $2",
      p);
  if (!r) return Unexpected(internal(r.error()));
  if (*r == 0) return Unexpected(not_found());
  if (stopped) stopped(owned->device.serial);
  return {};
}

}  // namespace nj::device
