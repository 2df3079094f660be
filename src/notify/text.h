// What a notification says, the same on every channel: a title in the person's language
// ("Motion at Garden", "Garden：移动侦测"), a line for a summary ("and 12 more"), and the
// JSON that webhooks and home-automation MQTT carry. Never the picture: a channel that
// leaves the server says what happened and where to look, with the person's session.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "notify/engine.h"

namespace nj::notify {

std::string title_of(const Notification& n);
std::string body_of(const Notification& n);  // "" unless a summary
// The notification's snooze button: "Silence 30 min".
std::string snooze_label(const Notification& n);
inline constexpr int kActionSnoozeMinutes = 30;
// {"id","event_id","device_id","device_name","kind","at","grouped","title","body"}
nlohmann::json notification_json(const Notification& n);

}  // namespace nj::notify
