#include "device/registry.h"

#include <sodium.h>

#include <ctime>
#include <sstream>

#include "common/time.h"
#include "device/key_file.h"
#include "device_protocol/provision.h"
#include "device_protocol/topics.h"

namespace nj::device {
namespace {

using store::Value;

DeviceError invalid(std::string field, std::string message) {
  return DeviceError{Errc::kInvalidInput, std::move(message), std::move(field)};
}

DeviceError internal(const store::StoreError& e) {
  return DeviceError{Errc::kInternal, e.message, {}};
}

bool printable(std::string_view s, size_t max) {
  if (s.size() > max) return false;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f || c == ',' || c == '"') return false;
  }
  return true;
}

bool digits(std::string_view s, size_t min, size_t max) {
  if (s.size() < min || s.size() > max) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// 12 hex digits, with or without ':' or '-' between pairs; normalised to upper-case "AA:BB:…".
std::optional<std::string> normalize_mac(std::string_view mac) {
  std::string hexits;
  for (char c : mac) {
    if (c == ':' || c == '-') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    hexits += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (hexits.size() != 12) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < 12; i += 2) {
    if (i) out += ':';
    out += hexits.substr(i, 2);
  }
  return out;
}

std::optional<DeviceError> validate(DeviceSpec& spec) {
  if (!device_protocol::valid_serial(spec.serial)) {
    return invalid("serial", "a serial is 1 to 64 letters, digits, '-' or '_'");
  }
  if (!printable(spec.model, 64)) return invalid("model", "the model is at most 64 characters");
  if (!printable(spec.firmware, 64)) return invalid("firmware", "at most 64 characters");
  if (!spec.mac.empty()) {
    auto mac = normalize_mac(spec.mac);
    if (!mac) return invalid("mac", "a MAC address is 12 hex digits");
    spec.mac = *mac;
  }
  if (!spec.imei.empty() && !digits(spec.imei, 15, 15)) {
    return invalid("imei", "an IMEI is 15 digits");
  }
  if (!spec.iccid.empty() && !digits(spec.iccid, 18, 22)) {
    return invalid("iccid", "an ICCID is 18 to 22 digits");
  }
  std::stringstream caps(spec.capabilities);
  std::string cap, normalised;
  while (std::getline(caps, cap, ';')) {
    if (cap.empty()) continue;
    if (cap != "audio" && cap != "talk" && cap != "sd") {
      return invalid("capabilities", "capabilities are audio, talk and sd, separated by ';'");
    }
    normalised += (normalised.empty() ? "" : ";") + cap;
  }
  spec.capabilities = normalised;
  return std::nullopt;
}

constexpr const char* kColumns =
    "id, serial, model, firmware, mac, imei, iccid, capabilities, name, owner_id, created_at, "
    "bound_at, last_seen_at, secret_generation, enabled, online, ip, sd_state, sd_state_at, "
    "binding_generation, settings, settings_at, place, privacy_schedule, privacy_schedule_edge";

Device from_row(const store::Row& r) {
  Device d;
  d.id = r.text(0);
  d.serial = r.text(1);
  d.model = r.text(2);
  d.firmware = r.text(3);
  d.mac = r.text(4);
  d.imei = r.text(5);
  d.iccid = r.text(6);
  d.capabilities = r.text(7);
  d.name = r.text(8);
  d.owner_id = r.optional_text(9);
  d.created_at = r.integer(10);
  if (!r.is_null(11)) d.bound_at = r.integer(11);
  if (!r.is_null(12)) d.last_seen_at = r.integer(12);
  d.secret_generation = r.integer(13);
  d.enabled = r.integer(14) != 0;
  d.online = r.integer(15) != 0;
  d.ip = r.text(16);
  d.sd_state = r.text(17);
  if (!r.is_null(18)) d.sd_state_at = r.integer(18);
  d.binding_generation = r.integer(19);
  d.settings = r.text(20);
  if (!r.is_null(21)) d.settings_at = r.integer(21);
  d.place = r.text(22);
  if (!r.is_null(23)) d.privacy_schedule = r.text(23);
  if (!r.is_null(24)) d.privacy_schedule_edge = r.integer(24);
  return d;
}

// Splits one CSV line (no quoting: none of our fields may hold a comma or a quote).
std::vector<std::string> split_csv(std::string_view line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    std::string field(
        line.substr(start, comma == std::string_view::npos ? line.npos : comma - start));
    while (!field.empty() && (field.back() == ' ' || field.back() == '\r')) field.pop_back();
    while (!field.empty() && field.front() == ' ') field.erase(0, 1);
    out.push_back(std::move(field));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

Result<SecretDeriver, std::string> SecretDeriver::open(const std::filesystem::path& keys_dir) {
  auto key = load_or_create_key(keys_dir, "device-secret.key");
  if (!key) return Unexpected(key.error());
  return SecretDeriver(std::move(*key));
}

std::array<uint8_t, crypto_auth_hmacsha256_BYTES> SecretDeriver::mac(
    std::string_view message) const {
  std::array<uint8_t, crypto_auth_hmacsha256_BYTES> out{};
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key_.data(), key_.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const uint8_t*>(message.data()),
                                message.size());
  crypto_auth_hmacsha256_final(&st, out.data());
  return out;
}

namespace {
// The first `n` bytes of a MAC as base64url without padding.
std::string base64url_prefix(const std::array<uint8_t, crypto_auth_hmacsha256_BYTES>& mac,
                             size_t n) {
  std::string out(sodium_base64_encoded_len(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), mac.data(), n,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.pop_back();
  return out;
}
}  // namespace

std::string SecretDeriver::secret(std::string_view serial, int64_t generation) const {
  // 24 bytes → 32 base64url characters: 192 bits, typeable from a label if need be.
  return base64url_prefix(mac(std::string(serial) + ":" + std::to_string(generation)), 24);
}

namespace {
constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
}  // namespace

std::string SecretDeriver::binding_tag(std::string_view serial, std::string_view owner_id) const {
  return base64url_prefix(mac("binding:" + std::string(serial) + ":" + std::string(owner_id)), 16);
}

std::string SecretDeriver::pairing_code(std::string_view serial) const {
  const auto code = mac("pairing:" + std::string(serial));
  uint64_t bits = 0;
  for (int i = 0; i < 5; ++i) bits = bits << 8 | code[static_cast<size_t>(i)];
  std::string out;
  for (int i = 7; i >= 0; --i) {
    out += kCrockford[(bits >> (5 * i)) & 31];
    if (i == 4) out += '-';
  }
  return out;
}

bool DeviceRegistry::check_pairing_code(std::string_view serial, std::string_view code) {
  if (code.size() > 32 || !by_serial(serial)) return false;
  const std::string given = device_protocol::normalize_pairing_code(code);
  const std::string expected =
      device_protocol::normalize_pairing_code(secrets_.pairing_code(serial));
  return given.size() == expected.size() &&
         sodium_memcmp(given.data(), expected.data(), given.size()) == 0;
}

DResult<NewDevice> DeviceRegistry::add(const DeviceSpec& given) {
  DeviceSpec spec = given;
  if (auto error = validate(spec)) return Unexpected(*error);
  NewDevice created;
  Device& d = created.device;
  d.id = random_id();
  d.serial = spec.serial;
  d.model = spec.model;
  d.firmware = spec.firmware;
  d.mac = spec.mac;
  d.imei = spec.imei;
  d.iccid = spec.iccid;
  d.capabilities = spec.capabilities;
  d.created_at = clock_.now_ms();
  created.secret = secrets_.secret(d.serial, d.secret_generation);
  const Value p[] = {d.id,
                     d.serial,
                     d.model,
                     d.firmware,
                     d.mac,
                     d.imei,
                     d.iccid,
                     d.capabilities,
                     sha256_hex(created.secret),
                     d.secret_generation,
                     d.created_at};
  auto r = db_.execute(
      "INSERT INTO devices (id, serial, model, firmware, mac, imei, iccid, capabilities, "
      "secret_hash, secret_generation, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
      "$10, $11)",
      p);
  if (!r) {
    if (r.error().code == store::Errc::kConstraint) {
      return Unexpected(
          DeviceError{Errc::kConflict, "serial " + d.serial + " is registered", "serial"});
    }
    return Unexpected(internal(r.error()));
  }
  return created;
}

DResult<std::vector<NewDevice>> DeviceRegistry::import_csv(std::string_view csv) {
  std::vector<std::string> lines;
  {
    std::string line;
    std::stringstream in{std::string(csv)};
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(line);
    }
  }
  if (lines.empty()) return Unexpected(invalid("csv", "the file is empty"));
  const auto header = split_csv(lines[0]);
  static const std::vector<std::string> known = {"serial", "model", "firmware",    "mac",
                                                 "imei",   "iccid", "capabilities"};
  std::vector<int> column_of(known.size(), -1);
  for (size_t i = 0; i < header.size(); ++i) {
    auto it = std::find(known.begin(), known.end(), header[i]);
    if (it == known.end()) {
      return Unexpected(invalid("csv", "line 1: unknown column '" + header[i] + "'"));
    }
    column_of[static_cast<size_t>(it - known.begin())] = static_cast<int>(i);
  }
  if (column_of[0] < 0) return Unexpected(invalid("csv", "line 1: no serial column"));
  std::vector<NewDevice> out;
  auto body = [&](store::Database& tx) -> store::StoreResult<void> {
    DeviceRegistry in_tx(tx, secrets_, clock_);
    for (size_t n = 1; n < lines.size(); ++n) {
      if (lines[n].find_first_not_of(" \t") == std::string::npos) continue;
      const auto fields = split_csv(lines[n]);
      if (fields.size() != header.size()) {
        return Unexpected(store::StoreError{store::Errc::kConstraint,
                                            "line " + std::to_string(n + 1) + ": " +
                                                std::to_string(fields.size()) + " fields, " +
                                                std::to_string(header.size()) + " expected"});
      }
      auto field = [&](size_t k) {
        return column_of[k] < 0 ? std::string() : fields[static_cast<size_t>(column_of[k])];
      };
      DeviceSpec spec{field(0), field(1), field(2), field(3), field(4), field(5), field(6)};
      auto added = in_tx.add(spec);
      if (!added) {
        return Unexpected(store::StoreError{
            store::Errc::kConstraint,
            "line " + std::to_string(n + 1) + ": " + added.error().message +
                (added.error().field.empty() ? "" : " (" + added.error().field + ")")});
      }
      out.push_back(std::move(*added));
    }
    return {};
  };
  if (auto done = db_.transaction(body); !done) {
    out.clear();
    if (done.error().code == store::Errc::kConstraint) {
      return Unexpected(invalid("csv", done.error().message));
    }
    return Unexpected(internal(done.error()));
  }
  return out;
}

DResult<Device> DeviceRegistry::one(std::string_view column, std::string_view value) {
  const Value p[] = {std::string(value)};
  auto rows = db_.query(
      std::string("SELECT ") + kColumns + " FROM devices WHERE " + std::string(column) + " = $1",
      p);
  if (!rows) return Unexpected(internal(rows.error()));
  if (rows->empty()) return Unexpected(DeviceError{Errc::kNotFound, "no such device", {}});
  return from_row(rows->front());
}

DResult<Device> DeviceRegistry::by_serial(std::string_view serial) { return one("serial", serial); }

DResult<Device> DeviceRegistry::by_id(std::string_view id) { return one("id", id); }

std::vector<Device> DeviceRegistry::all() {
  std::vector<Device> out;
  auto rows = db_.query(std::string("SELECT ") + kColumns + " FROM devices ORDER BY serial");
  if (!rows) return out;
  for (const auto& r : *rows) out.push_back(from_row(r));
  return out;
}

std::vector<Device> DeviceRegistry::owned_by(std::string_view user_id) {
  std::vector<Device> out;
  const Value p[] = {std::string(user_id)};
  auto rows = db_.query(
      std::string("SELECT ") + kColumns + " FROM devices WHERE owner_id = $1 ORDER BY name, serial",
      p);
  if (!rows) return out;
  for (const auto& r : *rows) out.push_back(from_row(r));
  return out;
}

bool DeviceRegistry::check_secret(std::string_view serial, std::string_view secret) {
  const Value p[] = {std::string(serial)};
  auto rows = db_.query("SELECT secret_hash FROM devices WHERE serial = $1", p);
  if (!rows || rows->empty()) return false;
  const std::string stored = rows->front().text(0);
  const std::string given = sha256_hex(secret);
  return stored.size() == given.size() &&
         sodium_memcmp(stored.data(), given.data(), given.size()) == 0;
}

std::string DeviceRegistry::current_secret(const Device& device) const {
  return secrets_.secret(device.serial, device.secret_generation);
}

void DeviceRegistry::add_traffic(std::string_view serial, uint64_t bytes) {
  auto device = by_serial(serial);
  if (!device || bytes == 0) return;
  const Value p[] = {device->id, utc_day(clock_.now_ms()), static_cast<int64_t>(bytes)};
  (void)db_.execute(
      "INSERT INTO device_traffic (device_id, day, bytes) VALUES ($1, $2, $3) "
      "ON CONFLICT (device_id, day) DO UPDATE SET bytes = device_traffic.bytes + excluded.bytes",
      p);
}

void DeviceRegistry::forget_traffic(std::string_view device_id) {
  const Value p[] = {std::string(device_id)};
  (void)db_.execute("DELETE FROM device_traffic WHERE device_id = $1", p);
}

std::vector<DeviceRegistry::DayTraffic> DeviceRegistry::traffic(std::string_view device_id,
                                                                int days) {
  std::vector<DayTraffic> out;
  const Value p[] = {std::string(device_id),
                     utc_day(clock_.now_ms() - int64_t{days - 1} * 86'400'000)};
  auto rows = db_.query(
      "SELECT day, bytes FROM device_traffic WHERE device_id = $1 AND day >= $2 "
      "ORDER BY day DESC",
      p);
  if (!rows) return out;
  for (const auto& r : *rows) out.push_back({r.text(0), r.integer(1)});
  return out;
}

void DeviceRegistry::mark_all_offline() {
  (void)db_.execute("UPDATE devices SET online = 0 WHERE online = 1");
}

void DeviceRegistry::set_name(std::string_view serial, std::string_view name) {
  const Value p[] = {std::string(serial), std::string(name.substr(0, 64))};
  (void)db_.execute("UPDATE devices SET name = $2 WHERE serial = $1", p);
}

void DeviceRegistry::set_sd_state(std::string_view serial, std::string_view state_json) {
  const Value p[] = {std::string(serial), std::string(state_json), clock_.now_ms()};
  (void)db_.execute("UPDATE devices SET sd_state = $2, sd_state_at = $3 WHERE serial = $1", p);
}

bool Device::privacy_mode() const {
  // Read back through the validating layer: what was stored is what a camera said.
  auto j = device_protocol::parse_json(settings, {4096, 2});
  if (!j) return false;
  auto s = device_protocol::read_settings(*j);
  return s && s->privacy_mode.value_or(false);
}

void DeviceRegistry::set_settings(std::string_view serial,
                                  const device_protocol::CameraSettings& settings) {
  const std::string settings_json = device_protocol::to_json(settings).dump();
  const bool privacy = settings.privacy_mode.value_or(false);
  const int64_t now = clock_.now_ms();
  (void)db_.transaction([&](store::Database& db) -> store::StoreResult<void> {
    const Value p[] = {std::string(serial), settings_json, now};
    auto id = db.query(
        "UPDATE devices SET settings = $2, settings_at = $3 WHERE serial = $1 "
        "RETURNING id",
        p);
    if (!id) return Unexpected(id.error());
    if (id->empty()) return {};
    const Value q[] = {id->front().text(0), now};
    auto open =
        db.query("SELECT 1 FROM device_privacy_periods WHERE device_id = $1 AND end_ms IS NULL",
                 std::span<const Value>(q, 1));
    if (!open) return Unexpected(open.error());
    if (privacy && open->empty()) {
      if (auto r = db.execute(
              "INSERT INTO device_privacy_periods (device_id, start_ms) VALUES ($1, $2)", q);
          !r)
        return Unexpected(r.error());
    } else if (!privacy && !open->empty()) {
      if (auto r = db.execute(
              "UPDATE device_privacy_periods SET end_ms = $2 WHERE device_id = $1 AND end_ms IS "
              "NULL",
              q);
          !r)
        return Unexpected(r.error());
    }
    return {};
  });
}

std::vector<PrivacyPeriod> DeviceRegistry::privacy_periods(std::string_view device_id, int64_t from,
                                                           int64_t to) {
  const Value p[] = {std::string(device_id), from, to};
  auto rows = db_.query(
      "SELECT start_ms, end_ms FROM device_privacy_periods WHERE device_id = $1 AND start_ms < $3 "
      "AND (end_ms IS NULL OR end_ms > $2) ORDER BY start_ms",
      p);
  std::vector<PrivacyPeriod> out;
  if (!rows) return out;
  for (const auto& r : *rows) {
    PrivacyPeriod period{r.integer(0), std::nullopt};
    if (!r.is_null(1)) period.end_ms = r.integer(1);
    out.push_back(period);
  }
  return out;
}

void DeviceRegistry::forget_privacy_periods(std::string_view device_id) {
  const Value p[] = {std::string(device_id)};
  (void)db_.execute("DELETE FROM device_privacy_periods WHERE device_id = $1", p);
}

void DeviceRegistry::set_privacy_schedule(std::string_view device_id,
                                          std::string_view schedule_json) {
  const Value p[] = {std::string(device_id),
                     schedule_json.empty() ? Value{nullptr} : Value{std::string(schedule_json)}};
  (void)db_.execute(
      "UPDATE devices SET privacy_schedule = $2, privacy_schedule_edge = NULL WHERE id = $1", p);
}

std::vector<Device> DeviceRegistry::scheduled() {
  auto rows = db_.query(std::string("SELECT ") + kColumns +
                        " FROM devices WHERE privacy_schedule IS NOT NULL AND owner_id IS NOT "
                        "NULL ORDER BY id");
  std::vector<Device> out;
  if (!rows) return out;
  for (const auto& r : *rows) out.push_back(from_row(r));
  return out;
}

void DeviceRegistry::mark_schedule_edge(std::string_view device_id, std::string_view schedule_json,
                                        int64_t edge_ms) {
  const Value p[] = {std::string(device_id), std::string(schedule_json), edge_ms};
  (void)db_.execute(
      "UPDATE devices SET privacy_schedule_edge = $3 WHERE id = $1 AND privacy_schedule = $2", p);
}

void DeviceRegistry::set_presence(std::string_view serial, bool online, std::string_view ip,
                                  std::string_view firmware) {
  const Value p[] = {std::string(serial), int64_t{online ? 1 : 0}, clock_.now_ms(),
                     std::string(ip.substr(0, 64)), std::string(firmware.substr(0, 64))};
  (void)db_.execute(
      "UPDATE devices SET online = $2, last_seen_at = $3, "
      "ip = CASE WHEN $4 = '' THEN ip ELSE $4 END, "
      "firmware = CASE WHEN $5 = '' THEN firmware ELSE $5 END WHERE serial = $1",
      p);
}

}  // namespace nj::device
