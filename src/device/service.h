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

std::optional<Role> parse_role(std::string_view name);

struct OwnedDevice {
  Device device;
  Role role = Role::kOwner;
  std::string shared_by;  // for a shared camera: its owner's display name (or e-mail)
};

// A device shared with someone: invited by e-mail, then accepted, declined or revoked.
struct Share {
  std::string id, device_id, device_name, email, state;
  Role role = Role::kViewer;
  std::optional<std::string> user_id;
  int64_t created_at = 0;
};

// Tells the invitee (an e-mail): who shared which camera. Set by the composition root.
using InviteNotifier = std::function<void(const std::string& email, const std::string& device_name,
                                          const std::string& from_email, Role role)>;

class DeviceService {
 public:
  DeviceRegistry& registry() { return registry_; }
  DeviceService(store::Database& db, DeviceRegistry& registry, const Clock& clock,
                int64_t bind_token_ttl_ms = 10 * 60 * 1000)
      : db_(db), registry_(registry), clock_(clock), bind_ttl_ms_(bind_token_ttl_ms) {}
  void set_invite_notifier(InviteNotifier notify) { notify_ = std::move(notify); }

  DResult<BindToken> create_bind_token(const std::string& user_id);
  // A device presents a token (over MQTT, from its own authenticated connection): if the
  // token is unused and unexpired, the device is bound to the token's account, enabled,
  // and the token is spent. A device bound to someone else must be unbound first.
  DResult<Device> claim(const std::string& serial, const std::string& token);
  // Adding a device by hand: its serial and the pairing code on its label prove that the
  // person holds it. An unbound device is bound to them (and enabled); their own device is
  // simply returned; one bound to someone else must be unbound first. A wrong serial or
  // code gets the same answer (kInvalidInput), so nobody learns which serials exist.
  DResult<Device> bind_by_code(const std::string& user_id, const std::string& serial,
                               const std::string& code);
  // The token is this person's, unused and unexpired (to draw its QR code again).
  bool bind_token_usable(const std::string& user_id, const std::string& token);

  // Devices the person owns, then those shared with them (accepted shares).
  std::vector<OwnedDevice> list(const std::string& user_id);
  // Everyone with a role on a bound device now (its owner and accepted shares), by user id.
  std::vector<std::pair<std::string, Role>> people_of(const std::string& device_id);
  // The device if the person may see it, with their role; kNotFound otherwise (never
  // revealing that it exists).
  DResult<OwnedDevice> get(const std::string& user_id, const std::string& device_id);
  // The person's role on a device now (nullopt: none, or the device is unbound).
  std::optional<Role> role_on(const Device& device, const std::string& user_id) {
    return role_of(device, user_id);
  }
  // The person's role for a device by serial (media requests name devices by serial).
  std::optional<Role> role_by_serial(const std::string& user_id, const std::string& serial);
  DResult<OwnedDevice> rename(const std::string& user_id, const std::string& device_id,
                              const std::string& name);
  // Owner only. Afterwards the device has no owner and its credentials are disabled;
  // `stopped` is told the serial so that running streams are cut at once.
  // Where the camera is, in its owner's words (admins too); "" clears it.
  DResult<OwnedDevice> set_place(const std::string& user_id, const std::string& device_id,
                                 const std::string& place);
  DResult<void> unbind(const std::string& user_id, const std::string& device_id,
                       const std::function<void(const std::string& serial)>& stopped);

  // An account cancelled: every device the person owns is unbound as by unbind (`stopped`
  // is told each serial), and every share they hold or were invited to ends (`revoked` is
  // told each device's serial). Returns how many devices were unbound.
  size_t end_everything_of(const std::string& user_id,
                           const std::function<void(const std::string& serial)>& stopped,
                           const std::function<void(const std::string& serial)>& revoked);

  // Sharing. The owner may share with any role but owner; an admin, up to family.
  DResult<Share> share(const std::string& user_id, const std::string& device_id,
                       const std::string& email, Role role);
  // The device's shares (owner and admins only), pending and accepted.
  DResult<std::vector<Share>> shares_of(const std::string& user_id, const std::string& device_id);
  // Invitations to the person's e-mail address, pending or accepted.
  std::vector<Share> invitations(const std::string& user_id);
  DResult<Share> accept(const std::string& user_id, const std::string& share_id);
  DResult<void> decline(const std::string& user_id, const std::string& share_id);
  // By the owner or an admin of the device, or by the invitee (leaving). `revoked` is told
  // whose access ended, to close what they have open at once.
  DResult<void> revoke(const std::string& user_id, const std::string& device_id,
                       const std::string& share_id,
                       const std::function<void(const std::string& serial,
                                                const std::optional<std::string>& user)>& revoked);

 private:
  store::StoreResult<void> bind_in(store::Database& tx, const Device& device,
                                   const std::string& user_id, int64_t now);
  std::optional<Role> role_of(const Device& device, const std::string& user_id);
  std::string email_of(const std::string& user_id);
  std::string email_of_any(const std::string& user_id);  // active or not
  InviteNotifier notify_;
  store::Database& db_;
  std::string owner_label(const Device& device);
  // Sets a text column the owner and admins may change (name, place), after the caller
  // checked the value.
  DResult<OwnedDevice> set_label(const std::string& user_id, const std::string& device_id,
                                 std::string_view column, const std::string& value);
  DeviceRegistry& registry_;
  const Clock& clock_;
  int64_t bind_ttl_ms_;
};

}  // namespace nj::device
