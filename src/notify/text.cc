#include "notify/text.h"

#include <array>
#include <chrono>

#include "common/time.h"

namespace nj::notify {

std::string title_of(const Notification& n) {
  struct Words {
    events::Kind kind;
    const char* en;
    const char* zh;
  };
  static constexpr std::array<Words, 8> kWords = {{
      {events::Kind::kMotion, "Motion", "移动侦测"},
      {events::Kind::kPerson, "Person", "有人出现"},
      {events::Kind::kSound, "Sound", "声音"},
      {events::Kind::kDeviceAlarm, "Camera alarm", "设备报警"},
      {events::Kind::kOffline, "Offline", "离线"},
      {events::Kind::kPrivacyMode, "Privacy mode", "隐私模式"},
      {events::Kind::kSdCard, "SD card", "SD 卡"},
      {events::Kind::kStorageFull, "Storage full", "存储已满"},
  }};
  const bool zh = n.language == "zh-CN";
  for (const auto& w : kWords) {
    if (w.kind != n.kind) continue;
    return zh ? n.device_name + "：" + w.zh : std::string(w.en) + " at " + n.device_name;
  }
  return n.device_name;
}

std::string body_of(const Notification& n) {
  if (n.grouped <= 0) return "";
  const std::string count = std::to_string(n.grouped);
  return n.language == "zh-CN" ? "另有 " + count + " 次" : "and " + count + " more";
}

std::string snooze_label(const Notification& n) {
  const std::string minutes = std::to_string(kActionSnoozeMinutes);
  return n.language == "zh-CN" ? "静音 " + minutes + " 分钟" : "Silence " + minutes + " min";
}

nlohmann::json notification_json(const Notification& n) {
  return {{"id", n.id},
          {"event_id", n.event_id},
          {"device_id", n.device_id},
          {"device_name", n.device_name},
          {"kind", std::string(events::kind_name(n.kind))},
          {"at", format_rfc3339(SystemTime(std::chrono::milliseconds(n.at_ms)))},
          {"grouped", n.grouped},
          {"title", title_of(n)},
          {"body", body_of(n)}};
}

}  // namespace nj::notify
