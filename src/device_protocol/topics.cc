#include "device_protocol/topics.h"

#include <algorithm>

namespace nj::device_protocol {

bool valid_serial(std::string_view serial) {
  return !serial.empty() && serial.size() <= 64 &&
         std::all_of(serial.begin(), serial.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
         });
}

std::string topic(std::string_view serial, std::string_view leaf) {
  std::string t(kTopicRoot);
  t += serial;
  t += '/';
  t += leaf;
  return t;
}

std::optional<ParsedTopic> parse_topic(std::string_view t) {
  if (!t.starts_with(kTopicRoot)) return std::nullopt;
  t.remove_prefix(kTopicRoot.size());
  const size_t slash = t.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  ParsedTopic p{std::string(t.substr(0, slash)), std::string(t.substr(slash + 1))};
  if (!valid_serial(p.serial) || p.leaf.empty()) return std::nullopt;
  return p;
}

bool device_may(std::string_view serial, std::string_view t, DeviceAccess access) {
  if (!valid_serial(serial) || !t.starts_with(kTopicRoot)) return false;
  t.remove_prefix(kTopicRoot.size());
  if (!t.starts_with(serial) || t.size() <= serial.size() || t[serial.size()] != '/') {
    return false;
  }
  const std::string_view leaf = t.substr(serial.size() + 1);
  if (access == DeviceAccess::kSubscribe) return leaf == "rpc/req";
  return leaf == "state" || leaf == "event" || leaf == "rpc/res" || leaf == "telemetry" ||
         leaf == "claim";
}

}  // namespace nj::device_protocol
