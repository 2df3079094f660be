#include "device_protocol/messages.h"

#include <algorithm>

namespace nj::device_protocol {
namespace {

using nlohmann::json;

constexpr JsonLimits kReportLimits{kMaxReportBytes, 6};
constexpr JsonLimits kRpcLimits{kMaxRpcResponseBytes, 8};
constexpr int64_t kMaxMs = int64_t{1} << 53;  // any time or duration a camera may give

template <class T>
Parsed<T> failed(const ObjectReader& r) {
  return Unexpected(*r.error());
}

bool file_name_chars(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

Parsed<json> read_sd_list(const json& result) {
  ObjectReader r(result);
  const json* list = r.field("recordings", true);
  const json* state = r.field("state");
  if (!r.ok()) return failed<json>(r);
  if (!list->is_array()) {
    return Unexpected(InputError{Reason::kWrongType, "recordings", "recordings is a list"});
  }
  if (list->size() > kMaxCardRecordings) {
    return Unexpected(InputError{Reason::kOutOfRange, "recordings", "too many recordings"});
  }
  json out = {{"recordings", json::array()}};
  for (const auto& item : *list) {
    ObjectReader e(item);
    auto name = e.string("name", 128, true);
    auto start = e.integer("start_ms", 0, kMaxMs, true);
    auto end = e.integer("end_ms", 0, kMaxMs, true);
    auto bytes = e.count("bytes", kMaxCardBytes, true);
    if (!e.ok())
      return Unexpected(
          InputError{e.error()->reason, "recordings." + e.error()->field, e.error()->message});
    if (name->empty() || !file_name_chars(*name) || *name == "." || *name == "..") {
      return Unexpected(InputError{Reason::kOutOfRange, "recordings.name", "not a file name"});
    }
    if (*end < *start) {
      return Unexpected(InputError{Reason::kOutOfRange, "recordings.end_ms", "ends before start"});
    }
    out["recordings"].push_back(
        {{"name", *name}, {"start_ms", *start}, {"end_ms", *end}, {"bytes", *bytes}});
  }
  if (state) {
    auto sd = read_sd_state(*state);
    if (!sd) return Unexpected(std::move(sd).error());
    out["state"] = to_json(*sd);
  }
  return out;
}

}  // namespace

std::string_view kind_name(MessageKind k) {
  switch (k) {
    case MessageKind::kState:
      return "state";
    case MessageKind::kEvent:
      return "event";
    case MessageKind::kTelemetry:
      return "telemetry";
    case MessageKind::kClaim:
      return "claim";
    case MessageKind::kRpcResponse:
      return "rpc_response";
    case MessageKind::kRpcResult:
      return "rpc_result";
  }
  return "unknown";
}

Parsed<StateReport> parse_state(std::string_view payload) {
  auto j = parse_json(payload, kReportLimits);
  if (!j) return Unexpected(std::move(j).error());
  ObjectReader r(*j);
  StateReport s;
  s.online = r.boolean("online", true).value_or(false);
  s.ip = r.string("ip", 64).value_or("");
  s.firmware = r.string("firmware", 64).value_or("");
  const json* settings = r.field("settings");
  if (!r.ok()) return failed<StateReport>(r);
  if (settings) {
    auto read = read_settings(*settings);
    if (!read) {
      auto e = std::move(read).error();
      return Unexpected(InputError{e.reason, "settings." + e.field, e.message});
    }
    s.settings = std::move(*read);
  }
  return s;
}

Parsed<DeviceEvent> parse_event(std::string_view payload) {
  auto j = parse_json(payload, kReportLimits);
  if (!j) return Unexpected(std::move(j).error());
  ObjectReader r(*j);
  DeviceEvent e;
  auto kind = r.string("kind", 32, true);
  auto state = r.string("state", 8, true);
  e.score = r.number("score", 0, 1).value_or(0);
  e.zones = r.strings("zones", kMaxEventZones, 64).value_or(std::vector<std::string>{});
  if (!r.ok()) return failed<DeviceEvent>(r);
  if (!is_word(*kind, 32) || kind->find('.') != std::string::npos) {
    return Unexpected(InputError{Reason::kOutOfRange, "kind", "kind is a short word"});
  }
  if (*state != "start" && *state != "end") {
    return Unexpected(InputError{Reason::kOutOfRange, "state", "state is start or end"});
  }
  e.kind = std::move(*kind);
  e.active = *state == "start";
  return e;
}

Parsed<SdCardState> read_sd_state(const json& j) {
  ObjectReader r(j);
  SdCardState s;
  auto capacity = r.count("capacity_bytes", kMaxCardBytes, true);
  auto used = r.count("used_bytes", kMaxCardBytes, true);
  auto health = r.string("health", 64, true);
  if (!r.ok()) return failed<SdCardState>(r);
  if (*used > *capacity) {
    return Unexpected(InputError{Reason::kOutOfRange, "used_bytes", "more used than there is"});
  }
  s.capacity_bytes = *capacity;
  s.used_bytes = *used;
  s.health = std::move(*health);
  return s;
}

json to_json(const SdCardState& s) {
  return {{"capacity_bytes", s.capacity_bytes}, {"used_bytes", s.used_bytes}, {"health", s.health}};
}

Parsed<Telemetry> parse_telemetry(std::string_view payload) {
  auto j = parse_json(payload, kReportLimits);
  if (!j) return Unexpected(std::move(j).error());
  ObjectReader r(*j);
  Telemetry t;
  t.bytes_sent = r.count("bytes_sent", kMaxBytesPerReport);
  const json* sd = r.field("sd");
  if (!r.ok()) return failed<Telemetry>(r);
  if (sd) {
    auto state = read_sd_state(*sd);
    if (!state) {
      auto e = std::move(state).error();
      e.field = "sd." + e.field;
      return Unexpected(std::move(e));
    }
    t.sd = std::move(*state);
  }
  return t;
}

Parsed<Claim> parse_claim(std::string_view payload) {
  auto j = parse_json(payload, kReportLimits);
  if (!j) return Unexpected(std::move(j).error());
  ObjectReader r(*j);
  auto token = r.string("token", 128, true);
  if (!r.ok()) return failed<Claim>(r);
  if (token->empty() || !file_name_chars(*token)) {
    return Unexpected(InputError{Reason::kOutOfRange, "token", "not a bind token"});
  }
  return Claim{std::move(*token)};
}

Parsed<RpcResponse> parse_rpc_response(std::string_view payload) {
  auto j = parse_json(payload, kRpcLimits);
  if (!j) return Unexpected(std::move(j).error());
  ObjectReader r(*j);
  RpcResponse res;
  auto id = r.string("id", 32, true);
  const json* result = r.field("result");
  const json* error = r.field("error");
  if (!r.ok()) return failed<RpcResponse>(r);
  if (id->empty()) {  // nothing was asked under no id
    return Unexpected(InputError{Reason::kOutOfRange, "id", "id is 1 to 32 characters"});
  }
  res.id = std::move(*id);
  if (error) {
    ObjectReader e(*error);
    auto code = e.string("code", 64, true);
    auto message = e.string("message", 500, false, true);
    if (!e.ok()) {
      return Unexpected(
          InputError{e.error()->reason, "error." + e.error()->field, e.error()->message});
    }
    if (!is_word(*code, 64)) {
      return Unexpected(InputError{Reason::kOutOfRange, "error.code", "code is a short word"});
    }
    res.error = RpcFailure{std::move(*code), message.value_or("")};
    return res;
  }
  if (result && !result->is_object()) {
    return Unexpected(InputError{Reason::kWrongType, "result", "result is an object"});
  }
  res.result = result ? *result : json::object();
  return res;
}

Parsed<CameraSettings> read_settings(const json& j) {
  ObjectReader r(j);
  CameraSettings s;
  if (!r.ok()) return failed<CameraSettings>(r);
  static constexpr std::string_view kKnown[] = {
      "motion_sensitivity", "night_mode", "mirror",       "flip",
      "status_light",       "microphone", "privacy_mode", "bitrate_kbps"};
  for (const auto& [key, value] : j.items()) {
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) {
      return Unexpected(InputError{Reason::kUnknown, key.size() <= 64 ? key : key.substr(0, 64),
                                   "unknown setting"});
    }
  }
  if (auto v = r.integer("motion_sensitivity", 0, 100)) s.motion_sensitivity = static_cast<int>(*v);
  s.night_mode = r.string("night_mode", 8);
  s.mirror = r.boolean("mirror");
  s.flip = r.boolean("flip");
  s.status_light = r.boolean("status_light");
  s.microphone = r.boolean("microphone");
  s.privacy_mode = r.boolean("privacy_mode");
  if (auto v = r.integer("bitrate_kbps", 100, 8000)) s.bitrate_kbps = static_cast<int>(*v);
  if (!r.ok()) return failed<CameraSettings>(r);
  if (s.night_mode && *s.night_mode != "auto" && *s.night_mode != "on" && *s.night_mode != "off") {
    return Unexpected(
        InputError{Reason::kOutOfRange, "night_mode", "night_mode is auto, on or off"});
  }
  return s;
}

json to_json(const CameraSettings& s) {
  json out = json::object();
  if (s.motion_sensitivity) out["motion_sensitivity"] = *s.motion_sensitivity;
  if (s.night_mode) out["night_mode"] = *s.night_mode;
  if (s.mirror) out["mirror"] = *s.mirror;
  if (s.flip) out["flip"] = *s.flip;
  if (s.status_light) out["status_light"] = *s.status_light;
  if (s.microphone) out["microphone"] = *s.microphone;
  if (s.privacy_mode) out["privacy_mode"] = *s.privacy_mode;
  if (s.bitrate_kbps) out["bitrate_kbps"] = *s.bitrate_kbps;
  return out;
}

CameraSettings merged(CameraSettings base, const CameraSettings& next) {
  const auto over = [](auto& into, const auto& from) {
    if (from) into = from;
  };
  over(base.motion_sensitivity, next.motion_sensitivity);
  over(base.night_mode, next.night_mode);
  over(base.mirror, next.mirror);
  over(base.flip, next.flip);
  over(base.status_light, next.status_light);
  over(base.microphone, next.microphone);
  over(base.privacy_mode, next.privacy_mode);
  over(base.bitrate_kbps, next.bitrate_kbps);
  return base;
}

Parsed<std::optional<std::string>> read_binding(const json& params) {
  ObjectReader r(params);
  const json* binding = r.field("binding");
  if (!r.ok()) return failed<std::optional<std::string>>(r);
  if (!params.contains("binding")) {
    return Unexpected(InputError{Reason::kMissing, "binding", "binding is missing"});
  }
  if (!binding) return std::optional<std::string>();  // null: nobody's
  auto tag = r.string("binding", 64, true);
  if (!r.ok()) return failed<std::optional<std::string>>(r);
  return std::optional<std::string>(std::move(*tag));
}

Parsed<json> read_rpc_result(std::string_view method, const json& result) {
  if (method == "stream.start") {
    ObjectReader r(result);
    const bool streaming = r.boolean("streaming").value_or(true);
    if (!r.ok()) return failed<json>(r);
    return json{{"streaming", streaming}};
  }
  if (method == "config.set") {
    ObjectReader r(result);
    const json* settings = r.field("settings", true);
    if (!r.ok()) return failed<json>(r);
    auto s = read_settings(*settings);
    if (!s) return Unexpected(std::move(s).error());
    return json{{"settings", to_json(*s)}};
  }
  if (method == "sd.list") return read_sd_list(result);
  if (method == "event.snapshot") {  // the picture is on its way (uploaded over HTTPS)
    ObjectReader r(result);
    const bool accepted = r.boolean("accepted").value_or(true);
    if (!r.ok()) return failed<json>(r);
    return json{{"accepted", accepted}};
  }
  if (method == "sd.play") {
    ObjectReader r(result);
    auto duration = r.integer("duration_ms", 0, kMaxMs);
    auto start = r.integer("start_ms", 0, kMaxMs);
    if (!r.ok()) return failed<json>(r);
    return json{{"duration_ms", duration.value_or(0)}, {"start_ms", start.value_or(0)}};
  }
  if (method == "talk.start" || method == "talk.stop" || method == "stream.stop" ||
      method == "sd.stop" || method == "sd.delete" || method == "sd.format" || method == "reboot") {
    return json::object();
  }
  return Unexpected(InputError{Reason::kUnknown, "", "no such method"});
}

}  // namespace nj::device_protocol
