// Notifications and the consent they need, for the signed-in person:
//   GET  /api/v1/notifications (WebSocket)       their notifications as they happen
//   GET  /api/v1/me/consents                     the latest word on each purpose, and history
//   PUT  /api/v1/me/consents/{purpose} {"granted"}  give or withdraw, at once
//   GET  /api/v1/me/notifications                mode, kinds, quiet hours, cooldown, cameras
//   PATCH /api/v1/me/notifications {…}           change them (one tap for the mode)
//   PATCH /api/v1/devices/{id}/notifications {"home","away","snooze_minutes"}
//   GET  /api/v1/push/key                        the server's VAPID public key (base64url)
//   GET  /api/v1/me/push-subscriptions           this person's browsers that get pushes
//   POST /api/v1/me/push-subscriptions {"endpoint","keys":{"p256dh","auth"}}
//   DELETE /api/v1/me/push-subscriptions/{id}
//   POST /api/v1/notifications/snooze {"token"}  a notification's "Silence 30 min" button:
//                                                no session, the token is the right to it
// A tab's WebSocket lasts as long as the session that opened it: it is closed when the
// session ends (signed out, expired) or the account is cancelled.
#pragma once

#include <string>

#include "account/service.h"
#include "api/guard.h"
#include "common/clock.h"
#include "common/time_zone.h"
#include "device/access_watch.h"
#include "device/service.h"
#include "http/router.h"
#include "notify/action_tokens.h"
#include "notify/in_app.h"
#include "notify/preferences.h"
#include "notify/push_channel.h"
#include "privacy/consents.h"

namespace nj::api {

class NotificationsApi {
 public:
  NotificationsApi(const Guard& guard, account::AccountService& accounts,
                   device::DeviceService& devices, device::AccessWatch& watch,
                   notify::InAppChannel& in_app, notify::Preferences& prefs,
                   privacy::ConsentLedger& consents, TimeZones& zones, const Clock& clock,
                   std::string policy_version)
      : guard_(guard),
        accounts_(accounts),
        devices_(devices),
        watch_(watch),
        in_app_(in_app),
        prefs_(prefs),
        consents_(consents),
        zones_(zones),
        clock_(clock),
        policy_version_(std::move(policy_version)) {}
  void install(http::Router& router);
  // Web Push: where subscriptions are kept, the key browsers subscribe with (raw), and the
  // push services allowed. Without it the push routes answer 404.
  void set_push(notify::PushSubscriptions* subscriptions, std::string public_key,
                notify::PushTargets targets) {
    push_ = subscriptions;
    push_key_ = std::move(public_key);
    push_targets_ = std::move(targets);
  }
  void set_action_tokens(const notify::ActionTokens* tokens) { action_tokens_ = tokens; }

 private:
  nlohmann::json settings_json(const std::string& user_id);
  const Guard& guard_;
  account::AccountService& accounts_;
  device::DeviceService& devices_;
  device::AccessWatch& watch_;
  notify::InAppChannel& in_app_;
  notify::Preferences& prefs_;
  privacy::ConsentLedger& consents_;
  TimeZones& zones_;
  const Clock& clock_;
  std::string policy_version_;
  notify::PushSubscriptions* push_ = nullptr;
  std::string push_key_;
  notify::PushTargets push_targets_;
  const notify::ActionTokens* action_tokens_ = nullptr;
};

}  // namespace nj::api
