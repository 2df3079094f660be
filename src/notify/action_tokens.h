// Actions taken from a notification outside the app, where there is no page to carry a CSRF
// token: the service worker's "Silence 30 min" button. The push message carries a token
// that can do exactly one thing (snooze this camera's notifications for this person), for a
// day, signed with the server's notify key. Using it still requires that the person may be
// notified about the camera at that moment (family and up).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"

namespace nj::notify {

struct SnoozeClaim {
  std::string user_id, device_id;
};

class ActionTokens {
 public:
  static constexpr int64_t kLifetimeMs = 24 * 3600 * 1000;
  ActionTokens(std::vector<uint8_t> key, const Clock& clock)
      : key_(std::move(key)), clock_(clock) {}
  std::string snooze(std::string_view user_id, std::string_view device_id) const;
  // Who and which camera, if the token is ours, unchanged and not expired.
  std::optional<SnoozeClaim> check_snooze(std::string_view token) const;

 private:
  std::string mac(std::string_view user_id, std::string_view device_id, int64_t expires) const;
  std::vector<uint8_t> key_;
  const Clock& clock_;
};

}  // namespace nj::notify
