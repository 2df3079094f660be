// The MQTT topics of DESIGN.md under nj/v1/{serial}/, and the serials they may carry.
// Device → cloud: state (retained), event, rpc/res, telemetry, claim (binding).
// Cloud → device: rpc/req.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nj::device_protocol {

inline constexpr std::string_view kTopicRoot = "nj/v1/";

// A serial is 1–64 of [A-Za-z0-9_-]: safe in topics, paths, URLs and file names.
bool valid_serial(std::string_view serial);

std::string topic(std::string_view serial, std::string_view leaf);

struct ParsedTopic {
  std::string serial;
  std::string leaf;  // "state", "rpc/res", …
};
// nullopt for topics outside nj/v1/ or with a malformed serial.
std::optional<ParsedTopic> parse_topic(std::string_view topic);

// What a camera logged in as `serial` may do with a topic: publish only its own state, event,
// rpc/res, telemetry and claim; subscribe to (and receive) only its own rpc/req. The broker
// plugin and the broker hook both ask this, so a camera has the same rights on any broker.
enum class DeviceAccess { kPublish, kSubscribe };
bool device_may(std::string_view serial, std::string_view topic, DeviceAccess access);

}  // namespace nj::device_protocol
