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

std::optional<Role> parse_role(std::string_view name) {
  for (Role r : {Role::kViewer, Role::kFamily, Role::kAdmin, Role::kOwner}) {
    if (role_name(r) == name) return r;
  }
  return std::nullopt;
}

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
      // The same device saying its claim again (it repeats until it hears back) is bound
      // already by this very token: that is a success, not a refusal.
      const Value again[] = {sha256_hex(token), device->id};
      auto spent = tx.query(
          "SELECT 1 FROM bind_tokens t JOIN devices d ON d.id = t.device_id "
          "WHERE t.token_hash = $1 AND t.device_id = $2 AND d.owner_id = t.user_id",
          again);
      if (!spent) return Unexpected(spent.error());
      refused = spent->empty();
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
    return bind_in(tx, *device, user_id, now);
  });
  if (!done) return Unexpected(internal(done.error()));
  if (refused) return Unexpected(refusal);
  return registry_.by_id(device->id);
}

store::StoreResult<void> DeviceService::bind_in(store::Database& tx, const Device& device,
                                                const std::string& user_id, int64_t now) {
  const Value bind[] = {
      device.id, user_id, now,
      device.name.empty() ? (device.model.empty() ? device.serial : device.model) : device.name};
  if (auto r =
          tx.execute("UPDATE devices SET owner_id = $2, bound_at = $3, enabled = 1, name = $4, "
                     "binding_generation = binding_generation + 1 WHERE id = $1",
                     bind);
      !r) {
    return Unexpected(r.error());
  }
  return {};
}

DResult<Device> DeviceService::bind_by_code(const std::string& user_id, const std::string& serial,
                                            const std::string& code) {
  const DeviceError wrong{Errc::kInvalidInput, "the serial or the pairing code is wrong",
                          "pairing_code"};
  if (serial.empty() || serial.size() > 64 || !registry_.check_pairing_code(serial, code)) {
    return Unexpected(wrong);
  }
  const auto device = registry_.by_serial(serial);
  if (!device) return Unexpected(wrong);
  bool conflict = false;
  auto done = db_.transaction([&](store::Database& tx) -> store::StoreResult<void> {
    // Read again inside the transaction: a camera claiming a token at the same moment
    // must not be bound twice.
    const Value p[] = {serial};
    auto rows = tx.query("SELECT id, owner_id FROM devices WHERE serial = $1", p);
    if (!rows) return Unexpected(rows.error());
    if (rows->empty()) return {};
    const auto owner = rows->front().optional_text(1);
    if (owner) {
      conflict = *owner != user_id;
      return {};
    }
    const Value u[] = {user_id};
    auto active = tx.query("SELECT 1 FROM users WHERE id = $1 AND status = 'active'", u);
    if (!active) return Unexpected(active.error());
    if (active->empty()) return {};
    return bind_in(tx, *device, user_id, clock_.now_ms());
  });
  if (!done) return Unexpected(internal(done.error()));
  if (conflict) {
    return Unexpected(DeviceError{
        Errc::kConflict, "this camera is someone else's; they must remove it first", "serial"});
  }
  auto now_bound = registry_.by_serial(serial);
  if (!now_bound || now_bound->owner_id != user_id) return Unexpected(wrong);
  return now_bound;
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

std::optional<Role> DeviceService::role_of(const Device& device, const std::string& user_id) {
  if (!device.owner_id) return std::nullopt;  // unbound: nobody's, shares included
  if (*device.owner_id == user_id) return Role::kOwner;
  const Value p[] = {device.id, user_id};
  auto rows = db_.query(
      "SELECT role FROM device_shares WHERE device_id = $1 AND user_id = $2 "
      "AND state = 'accepted'",
      p);
  if (!rows || rows->empty()) return std::nullopt;
  return parse_role(rows->front().text(0));
}

std::vector<std::pair<std::string, Role>> DeviceService::people_of(const std::string& device_id) {
  std::vector<std::pair<std::string, Role>> out;
  auto device = registry_.by_id(device_id);
  if (!device || !device->owner_id) return out;
  out.emplace_back(*device->owner_id, Role::kOwner);
  const Value p[] = {device_id};
  auto rows = db_.query(
      "SELECT user_id, role FROM device_shares WHERE device_id = $1 AND state = 'accepted' "
      "AND user_id IS NOT NULL ORDER BY user_id",
      p);
  if (!rows) return out;
  for (const auto& r : *rows) {
    if (auto role = parse_role(r.text(1))) out.emplace_back(r.text(0), *role);
  }
  return out;
}

std::vector<OwnedDevice> DeviceService::list(const std::string& user_id) {
  std::vector<OwnedDevice> out;
  for (auto& d : registry_.owned_by(user_id)) out.push_back({std::move(d), Role::kOwner, {}});
  const Value p[] = {user_id};
  auto rows = db_.query(
      "SELECT s.device_id, s.role FROM device_shares s JOIN devices d ON d.id = s.device_id "
      "WHERE s.user_id = $1 AND s.state = 'accepted' AND d.owner_id IS NOT NULL "
      "ORDER BY d.name, d.serial",
      p);
  if (!rows) return out;
  for (const auto& r : *rows) {
    auto device = registry_.by_id(r.text(0));
    auto role = parse_role(r.text(1));
    if (device && role) {
      std::string by = owner_label(*device);
      out.push_back({std::move(*device), *role, std::move(by)});
    }
  }
  return out;
}

std::string DeviceService::owner_label(const Device& device) {
  if (!device.owner_id) return {};
  const Value p[] = {*device.owner_id};
  auto rows = db_.query("SELECT display_name, email FROM users WHERE id = $1", p);
  if (!rows || rows->empty()) return {};
  const auto& r = rows->front();
  return r.text(0).empty() ? r.text(1) : r.text(0);
}

DResult<OwnedDevice> DeviceService::get(const std::string& user_id, const std::string& device_id) {
  auto device = registry_.by_id(device_id);
  if (!device) return Unexpected(not_found());
  auto role = role_of(*device, user_id);
  if (!role) return Unexpected(not_found());
  std::string by = *role == Role::kOwner ? std::string() : owner_label(*device);
  return OwnedDevice{std::move(*device), *role, std::move(by)};
}

std::optional<Role> DeviceService::role_by_serial(const std::string& user_id,
                                                  const std::string& serial) {
  auto device = registry_.by_serial(serial);
  if (!device) return std::nullopt;
  return role_of(*device, user_id);
}

std::string DeviceService::email_of(const std::string& user_id) {
  const Value p[] = {user_id};
  auto rows = db_.query("SELECT email FROM users WHERE id = $1 AND status = 'active'", p);
  return rows && !rows->empty() ? rows->front().text(0) : std::string();
}

DResult<OwnedDevice> DeviceService::rename(const std::string& user_id, const std::string& device_id,
                                           const std::string& name) {
  if (!valid_name(name)) {
    return Unexpected(DeviceError{Errc::kInvalidInput, "a name is 1 to 64 characters", "name"});
  }
  auto owned = set_label(user_id, device_id, "name", name);
  if (owned) owned->device.name = name;
  return owned;
}

DResult<OwnedDevice> DeviceService::set_place(const std::string& user_id,
                                              const std::string& device_id,
                                              const std::string& place) {
  if (!place.empty() && !valid_name(place)) {
    return Unexpected(DeviceError{Errc::kInvalidInput, "a place is up to 64 characters", "place"});
  }
  auto owned = set_label(user_id, device_id, "place", place);
  if (owned) owned->device.place = place;
  return owned;
}

DResult<OwnedDevice> DeviceService::set_label(const std::string& user_id,
                                              const std::string& device_id, std::string_view column,
                                              const std::string& value) {
  auto owned = get(user_id, device_id);
  if (!owned) return owned;
  if (owned->role < Role::kAdmin) return Unexpected(not_found());
  const Value p[] = {device_id, value};
  // `column` is one of ours (name, place), never from a request.
  if (auto r = db_.execute("UPDATE devices SET " + std::string(column) + " = $2 WHERE id = $1", p);
      !r) {
    return Unexpected(internal(r.error()));
  }
  return owned;
}

DResult<void> DeviceService::unbind(const std::string& user_id, const std::string& device_id,
                                    const std::function<void(const std::string&)>& stopped) {
  auto owned = get(user_id, device_id);
  if (!owned) return Unexpected(owned.error());
  if (owned->role != Role::kOwner) return Unexpected(not_found());
  const Value p[] = {device_id, user_id};
  auto r = db_.execute(
      "UPDATE devices SET owner_id = NULL, bound_at = NULL, enabled = 0, name = '', place = '', "
      "privacy_schedule = NULL, privacy_schedule_edge = NULL, binding_generation = "
      "binding_generation + 1 WHERE id = $1 AND owner_id = $2",
      p);
  if (!r) return Unexpected(internal(r.error()));
  if (*r == 0) return Unexpected(not_found());
  // Nobody keeps access through a share of a device that left the account.
  const Value q[] = {device_id, clock_.now_ms()};
  (void)db_.execute(
      "UPDATE device_shares SET state = 'revoked', decided_at = $2 "
      "WHERE device_id = $1 AND state IN ('pending', 'accepted')",
      q);
  if (stopped) stopped(owned->device.serial);
  return {};
}

size_t DeviceService::end_everything_of(const std::string& user_id,
                                        const std::function<void(const std::string&)>& stopped,
                                        const std::function<void(const std::string&)>& revoked) {
  size_t unbound = 0;
  for (const auto& d : registry_.owned_by(user_id)) {
    if (unbind(user_id, d.id, stopped)) ++unbound;
  }
  // Shares held (by user id) and invitations still open (by e-mail address).
  const Value p[] = {user_id, email_of_any(user_id)};
  auto rows = db_.query(
      "SELECT DISTINCT d.serial FROM device_shares s JOIN devices d ON d.id = s.device_id "
      "WHERE (s.user_id = $1 OR s.email = $2) AND s.state IN ('pending', 'accepted')",
      p);
  const Value q[] = {user_id, email_of_any(user_id), clock_.now_ms()};
  (void)db_.execute(
      "UPDATE device_shares SET state = 'revoked', decided_at = $3 "
      "WHERE (user_id = $1 OR email = $2) AND state IN ('pending', 'accepted')",
      q);
  if (rows && revoked) {
    for (const auto& r : *rows) revoked(r.text(0));
  }
  return unbound;
}

std::string DeviceService::email_of_any(const std::string& user_id) {
  const Value p[] = {user_id};
  auto rows = db_.query("SELECT email FROM users WHERE id = $1", p);
  // An address no share can have, when the person is gone already.
  return rows && !rows->empty() ? rows->front().text(0) : std::string("\x01");
}

namespace {

constexpr const char* kShareColumns =
    "s.id, s.device_id, d.name, s.email, s.state, s.role, s.user_id, s.created_at";

Share share_from(const store::Row& r) {
  Share s;
  s.id = r.text(0);
  s.device_id = r.text(1);
  s.device_name = r.text(2);
  s.email = r.text(3);
  s.state = r.text(4);
  s.role = parse_role(r.text(5)).value_or(Role::kViewer);
  s.user_id = r.optional_text(6);
  s.created_at = r.integer(7);
  return s;
}

std::optional<std::string> normalize_email(std::string_view email) {
  if (email.size() < 3 || email.size() > 254) return std::nullopt;
  std::string out;
  for (char c : email) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return std::nullopt;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  const size_t at = out.find('@');
  if (at == 0 || at == std::string::npos || at + 1 >= out.size() ||
      out.find('@', at + 1) != std::string::npos) {
    return std::nullopt;
  }
  return out;
}

}  // namespace

DResult<Share> DeviceService::share(const std::string& user_id, const std::string& device_id,
                                    const std::string& email_in, Role role) {
  auto owned = get(user_id, device_id);
  if (!owned) return Unexpected(owned.error());
  if (owned->role < Role::kAdmin) return Unexpected(not_found());
  if (role == Role::kOwner || (owned->role == Role::kAdmin && role == Role::kAdmin)) {
    return Unexpected(
        DeviceError{Errc::kInvalidInput, "that role cannot be given from here", "role"});
  }
  auto email = normalize_email(email_in);
  if (!email) {
    return Unexpected(DeviceError{Errc::kInvalidInput, "not an e-mail address", "email"});
  }
  const std::string from = email_of(user_id);
  if (*email == from || *email == email_of(owned->device.owner_id.value_or(""))) {
    return Unexpected(
        DeviceError{Errc::kInvalidInput, "the device is already yours to see", "email"});
  }
  {
    const Value q[] = {device_id, *email};
    auto rows = db_.query(
        "SELECT 1 FROM device_shares WHERE device_id = $1 AND email = $2 "
        "AND state IN ('pending', 'accepted')",
        q);
    if (!rows) return Unexpected(internal(rows.error()));
    if (!rows->empty()) {
      return Unexpected(DeviceError{Errc::kConflict, "already shared with that address", "email"});
    }
  }
  Share s;
  s.id = random_id();
  s.device_id = device_id;
  s.device_name = owned->device.name;
  s.email = *email;
  s.state = "pending";
  s.role = role;
  s.created_at = clock_.now_ms();
  const Value p[] = {s.id, device_id, user_id, *email, std::string(role_name(role)), s.created_at};
  if (auto r = db_.execute(
          "INSERT INTO device_shares (id, device_id, invited_by, email, role, state, created_at) "
          "VALUES ($1, $2, $3, $4, $5, 'pending', $6)",
          p);
      !r) {
    return Unexpected(internal(r.error()));
  }
  if (notify_) notify_(*email, owned->device.name, from, role);
  return s;
}

DResult<std::vector<Share>> DeviceService::shares_of(const std::string& user_id,
                                                     const std::string& device_id) {
  auto owned = get(user_id, device_id);
  if (!owned) return Unexpected(owned.error());
  if (owned->role < Role::kAdmin) return Unexpected(not_found());
  const Value p[] = {device_id};
  auto rows = db_.query(std::string("SELECT ") + kShareColumns +
                            " FROM device_shares s JOIN devices d ON d.id = s.device_id "
                            "WHERE s.device_id = $1 AND s.state IN ('pending', 'accepted') "
                            "ORDER BY s.created_at",
                        p);
  if (!rows) return Unexpected(internal(rows.error()));
  std::vector<Share> out;
  for (const auto& r : *rows) out.push_back(share_from(r));
  return out;
}

std::vector<Share> DeviceService::invitations(const std::string& user_id) {
  std::vector<Share> out;
  const Value p[] = {email_of(user_id), user_id};
  auto rows = db_.query(std::string("SELECT ") + kShareColumns +
                            " FROM device_shares s JOIN devices d ON d.id = s.device_id "
                            "WHERE ((s.email = $1 AND s.state = 'pending') OR "
                            "(s.user_id = $2 AND s.state = 'accepted')) "
                            "AND d.owner_id IS NOT NULL ORDER BY s.created_at",
                        p);
  if (!rows) return out;
  for (const auto& r : *rows) out.push_back(share_from(r));
  return out;
}

DResult<Share> DeviceService::accept(const std::string& user_id, const std::string& share_id) {
  const Value p[] = {share_id, email_of(user_id), user_id, clock_.now_ms()};
  auto r = db_.execute(
      "UPDATE device_shares SET state = 'accepted', user_id = $3, decided_at = $4 "
      "WHERE id = $1 AND email = $2 AND state = 'pending'",
      p);
  if (!r) return Unexpected(internal(r.error()));
  if (*r == 0) return Unexpected(DeviceError{Errc::kNotFound, "no such invitation", {}});
  for (auto& s : invitations(user_id)) {
    if (s.id == share_id) return s;
  }
  return Unexpected(DeviceError{Errc::kNotFound, "no such invitation", {}});
}

DResult<void> DeviceService::decline(const std::string& user_id, const std::string& share_id) {
  const Value p[] = {share_id, email_of(user_id), clock_.now_ms()};
  auto r = db_.execute(
      "UPDATE device_shares SET state = 'declined', decided_at = $3 "
      "WHERE id = $1 AND email = $2 AND state = 'pending'",
      p);
  if (!r) return Unexpected(internal(r.error()));
  if (*r == 0) return Unexpected(DeviceError{Errc::kNotFound, "no such invitation", {}});
  return {};
}

DResult<void> DeviceService::revoke(
    const std::string& user_id, const std::string& device_id, const std::string& share_id,
    const std::function<void(const std::string&, const std::optional<std::string>&)>& revoked) {
  const Value q[] = {share_id, device_id};
  auto rows = db_.query(std::string("SELECT ") + kShareColumns +
                            " FROM device_shares s JOIN devices d ON d.id = s.device_id "
                            "WHERE s.id = $1 AND s.device_id = $2 "
                            "AND s.state IN ('pending', 'accepted')",
                        q);
  if (!rows) return Unexpected(internal(rows.error()));
  if (rows->empty()) return Unexpected(DeviceError{Errc::kNotFound, "no such share", {}});
  const Share share = share_from(rows->front());
  const bool invitee = share.user_id && *share.user_id == user_id;
  if (!invitee) {
    auto owned = get(user_id, device_id);
    if (!owned || owned->role < Role::kAdmin) return Unexpected(not_found());
    if (owned->role == Role::kAdmin && share.role == Role::kAdmin) {
      return Unexpected(not_found());
    }
  }
  const Value p[] = {share_id, clock_.now_ms()};
  if (auto r = db_.execute(
          "UPDATE device_shares SET state = 'revoked', decided_at = $2 WHERE id = $1", p);
      !r) {
    return Unexpected(internal(r.error()));
  }
  if (revoked) {
    auto device = registry_.by_id(device_id);
    if (device) revoked(device->serial, share.user_id);
  }
  return {};
}

}  // namespace nj::device
