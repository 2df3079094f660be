// The device registry: which devices exist, their identity (serial, model, firmware, MAC,
// IMEI/ICCID), their secrets, whom each is bound to, and their presence. Secrets are per
// device (never a shared default, ETSI EN 303 645 §5.1): derived from a server key held in
// DIR/keys/ and the device's secret generation, stored only as SHA-256, shown once.
// Transport-free; the API, the admin CLI and the broker link call it.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "device_protocol/messages.h"
#include "store/database.h"

namespace nj::device {

enum class Errc {
  kInvalidInput,  // a field is malformed (field names it)
  kConflict,      // the serial is registered already
  kNotFound,      // no such device, or not the caller's (never says which)
  kInternal,
};
struct DeviceError {
  Errc code;
  std::string message;
  std::string field;
};
template <class T>
using DResult = Result<T, DeviceError>;

// Makes device secrets: HMAC-SHA-256(key, serial ":" generation), base64url, 32 characters.
class SecretDeriver {
 public:
  // Loads DIR/keys/device-secret.key, creating it (32 random bytes, mode 0600) if missing.
  static Result<SecretDeriver, std::string> open(const std::filesystem::path& keys_dir);
  explicit SecretDeriver(std::vector<uint8_t> key) : key_(std::move(key)) {}
  std::string secret(std::string_view serial, int64_t generation) const;
  // The pairing code printed on the device's label beside its serial, for adding it by
  // hand ("XXXX-XXXX", Crockford base32, 40 bits): HMAC-SHA-256(key, "pairing:" serial).
  // It never changes, so whoever holds the camera (and its label) can add it once it is
  // unbound; throttling keeps guessing out of reach.
  std::string pairing_code(std::string_view serial) const;
  // Whose the device is, as the device may know it: HMAC(key, "binding:" serial ":" owner),
  // 22 characters. Equal for the same account, different for any other; it names no one.
  std::string binding_tag(std::string_view serial, std::string_view owner_id) const;

 private:
  std::array<uint8_t, 32> mac(std::string_view message) const;  // HMAC-SHA-256 with the key
  std::vector<uint8_t> key_;
};

struct DeviceSpec {
  std::string serial, model, firmware, mac, imei, iccid, capabilities;
};

struct Device {
  std::string id, serial, model, firmware, mac, imei, iccid, capabilities, name;
  std::optional<std::string> owner_id;
  int64_t created_at = 0;
  std::optional<int64_t> bound_at, last_seen_at;
  int64_t secret_generation = 1;
  int64_t binding_generation = 0;  // raised on every bind and unbind (stream tokens carry it)
  bool enabled = true;
  bool online = false;
  std::string ip;
  // The SD card as last reported (JSON {"capacity_bytes","used_bytes","health"}; empty if
  // it never said), and when.
  std::string sd_state;
  std::optional<int64_t> sd_state_at;
  // Its settings as it last reported them (JSON object, checked; "{}" if it never said), and
  // when.
  std::string settings = "{}";
  std::optional<int64_t> settings_at;
  std::string place;          // where it is, in its owner's words
  bool privacy_mode() const;  // what the settings say
  // Its privacy-mode schedule (JSON as read_privacy_schedule reads it; "" for none) and the
  // last edge of it applied (nullopt: none yet).
  std::string privacy_schedule;
  std::optional<int64_t> privacy_schedule_edge;
};

// A stretch of time a camera was in privacy mode; end is nullopt while it still is.
struct PrivacyPeriod {
  int64_t start_ms = 0;
  std::optional<int64_t> end_ms;
};

struct NewDevice {
  Device device;
  std::string secret;  // give to the device (or the factory) once; only its hash is kept
};

class DeviceRegistry {
 public:
  DeviceRegistry(store::Database& db, const SecretDeriver& secrets, const Clock& clock)
      : db_(db), secrets_(secrets), clock_(clock) {}

  DResult<NewDevice> add(const DeviceSpec& spec);
  // SecretDeriver::binding_tag for this registry's key.
  std::string binding_tag(std::string_view serial, std::string_view owner_id) const {
    return secrets_.binding_tag(serial, owner_id);
  }
  // A factory's CSV: a header line naming the columns (serial required; model, firmware,
  // mac, imei, iccid, capabilities optional), then one device per line. All or nothing:
  // one bad or duplicate line rejects the file, naming the line.
  DResult<std::vector<NewDevice>> import_csv(std::string_view csv);

  DResult<Device> by_serial(std::string_view serial);
  DResult<Device> by_id(std::string_view id);
  std::vector<Device> all();
  std::vector<Device> owned_by(std::string_view user_id);
  // True only for the current secret of an existing device (constant-time comparison).
  bool check_secret(std::string_view serial, std::string_view secret);
  // True only for the pairing code of an existing device (constant-time comparison; case,
  // dashes and spaces do not matter, nor the letters people confuse with digits).
  bool check_pairing_code(std::string_view serial, std::string_view code);
  std::string pairing_code(std::string_view serial) const { return secrets_.pairing_code(serial); }
  // The device's current secret, re-derived (for the broker's credentials).
  std::string current_secret(const Device& device) const;

  // The name a device will have once bound (the operator's label, or the demo's).
  void set_name(std::string_view serial, std::string_view name);
  // What a device reported sending (its telemetry), added to today's (UTC) total.
  void add_traffic(std::string_view serial, uint64_t bytes);
  struct DayTraffic {
    std::string day;  // YYYY-MM-DD, UTC
    int64_t bytes = 0;
  };
  // The last `days` days that have any traffic, newest first.
  std::vector<DayTraffic> traffic(std::string_view device_id, int days);
  // The binding ended: its traffic (when the camera sent, how much) is its owner's record,
  // not the next owner's.
  void forget_traffic(std::string_view device_id);
  // The SD card's state from the device's telemetry (already validated JSON).
  void set_sd_state(std::string_view serial, std::string_view state_json);
  // The camera's settings as it reported them (its state, its answer to config.set), kept
  // as canonical JSON. Privacy mode turning on or off opens or closes a privacy period.
  void set_settings(std::string_view serial, const device_protocol::CameraSettings& settings);
  // Privacy periods of a device overlapping [from, to), oldest first.
  std::vector<PrivacyPeriod> privacy_periods(std::string_view device_id, int64_t from, int64_t to);
  // The binding ended: its privacy periods go with its recordings.
  void forget_privacy_periods(std::string_view device_id);
  // Sets (canonical JSON) or clears ("") a bound device's privacy schedule; no edge of the
  // new one has been applied yet.
  void set_privacy_schedule(std::string_view device_id, std::string_view schedule_json);
  // Bound devices that have a schedule.
  std::vector<Device> scheduled();
  // The schedule's edge at `edge_ms` was applied; kept only while the schedule is still the
  // one that was evaluated (a change meanwhile starts over).
  void mark_schedule_edge(std::string_view device_id, std::string_view schedule_json,
                          int64_t edge_ms);
  // At start: the broker's retained states are gone with its last run, so nobody is online
  // until they say so again.
  void mark_all_offline();
  // Presence from the device's retained state topic.
  void set_presence(std::string_view serial, bool online, std::string_view ip,
                    std::string_view firmware);

 private:
  DResult<Device> one(std::string_view column, std::string_view value);
  store::Database& db_;
  const SecretDeriver& secrets_;
  const Clock& clock_;
};

}  // namespace nj::device
