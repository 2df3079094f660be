// What devices say to the cloud (DESIGN.md, MQTT), as typed values. Every byte a device sends
// on its topics, and every answer to an RPC, is read here and nowhere else: bounded in size,
// depth, length and range, and refused with an InputError (a value, never an exception).
// The device agent and the server share this module, so both ends agree on the shapes.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "device_protocol/json_input.h"

namespace nj::device_protocol {

// The kinds of message a device sends, for counting what is refused.
enum class MessageKind { kState, kEvent, kTelemetry, kClaim, kRpcResponse, kRpcResult };
std::string_view kind_name(MessageKind k);

// Largest payloads: a report is small; an RPC answer may list a whole SD card.
inline constexpr size_t kMaxReportBytes = 8 * 1024;
inline constexpr size_t kMaxRpcResponseBytes = 1024 * 1024;
// Bytes a camera may say it sent in one telemetry report (a negative or 2^40-byte report is
// a lie or a bug; 4 GiB a report is far above any camera's rate).
inline constexpr uint64_t kMaxBytesPerReport = uint64_t{1} << 32;
inline constexpr uint64_t kMaxCardBytes = uint64_t{1} << 50;  // a petabyte card is a bad report
inline constexpr size_t kMaxCardRecordings = 10'000;

// A camera's settings (config.set both ways, and in its state): each optional, each checked.
struct CameraSettings {
  std::optional<int> motion_sensitivity;  // 0–100; 0 turns detection off
  std::optional<std::string> night_mode;  // auto | on | off
  std::optional<bool> mirror;             // left and right swapped
  std::optional<bool> flip;               // upside down (a camera mounted on a ceiling)
  std::optional<bool> status_light;       // the LED that says it is on
  std::optional<bool> microphone;         // false: the audio track carries silence
  // The camera sends no video or audio and records nothing, until it is turned off.
  std::optional<bool> privacy_mode;
  std::optional<int> bitrate_kbps;  // 100–8000
};
// Unknown keys are refused (kUnknown), so a typo is not silently ignored.
Parsed<CameraSettings> read_settings(const nlohmann::json& j);
nlohmann::json to_json(const CameraSettings& s);
// `next` laid over `base`: what is set in next wins.
CameraSettings merged(CameraSettings base, const CameraSettings& next);

// `state` (retained; the last will says offline). An online camera says its settings too,
// so the app shows what the camera really does (also after changes made on the camera).
struct StateReport {
  bool online = false;
  std::string ip;        // as the camera sees itself, ≤ 64 bytes
  std::string firmware;  // ≤ 64 bytes
  std::optional<CameraSettings> settings;
};
Parsed<StateReport> parse_state(std::string_view payload);

// `event`: {"kind": "motion", "state": "start"|"end", "score": 0–1 (optional), "zones":
// [names] (optional, at most 8 of 1–64 bytes)}. Times are the server's, taken when it
// arrives (a camera's clock is not trusted).
struct DeviceEvent {
  std::string kind;     // a short word: motion, person, sound, …
  bool active = false;  // began (start) or ended (end)
  double score = 0;
  std::vector<std::string> zones;  // the camera's zones it happened in
};
inline constexpr size_t kMaxEventZones = 8;
Parsed<DeviceEvent> parse_event(std::string_view payload);

// The SD card's state: {"capacity_bytes", "used_bytes", "health"}.
struct SdCardState {
  uint64_t capacity_bytes = 0, used_bytes = 0;
  std::string health;  // ≤ 64 bytes
};
Parsed<SdCardState> read_sd_state(const nlohmann::json& j);
nlohmann::json to_json(const SdCardState& s);

// `telemetry`: {"bytes_sent": n} since the last report and {"sd": {…}}, either optional.
struct Telemetry {
  std::optional<uint64_t> bytes_sent;
  std::optional<SdCardState> sd;
};
Parsed<Telemetry> parse_telemetry(std::string_view payload);

// `claim`: {"token": "…"}, a bind token from a QR code.
struct Claim {
  std::string token;
};
Parsed<Claim> parse_claim(std::string_view payload);

// `rpc/res`: {"id", "result"} or {"id", "error": {"code", "message"}}. The result is still
// the device's JSON (bounded): read it with read_rpc_result for the method that was asked.
struct RpcFailure {
  std::string code;  // a short word
  std::string message;
};
struct RpcResponse {
  std::string id;
  nlohmann::json result;  // an object; {} when absent
  std::optional<RpcFailure> error;
};
Parsed<RpcResponse> parse_rpc_response(std::string_view payload);

// Cloud → device, one-way: binding.set {"binding": tag | null} (whose the camera is now;
// null: nobody's). The value inside is nullopt for null.
Parsed<std::optional<std::string>> read_binding(const nlohmann::json& params);

// The result of RPC `method` in its checked, canonical form (only known fields, bounded):
//   stream.start → {"streaming": bool}; config.set → {"settings": {…}};
//   sd.list → {"recordings": [{"name","start_ms","end_ms","bytes"}], "state": {…}};
//   sd.play → {"duration_ms", "start_ms"}; stream.stop, sd.stop, sd.delete, sd.format,
//   reboot → {} (whatever they said). An unknown method's result is refused.
Parsed<nlohmann::json> read_rpc_result(std::string_view method, const nlohmann::json& result);

}  // namespace nj::device_protocol
