// The consent ledger: what a person agreed to, for each purpose, when, under which policy
// version and how. Giving and withdrawing are rows appended, never changed, so the history
// can be shown and exported; the latest row of a purpose is what holds, from that instant
// (policy items 7, 18, 31: no notification without consent, withdrawn as easily as given).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "store/database.h"

namespace nj::privacy {

// The purposes that need consent. Notification channels each need their own.
inline constexpr std::string_view kNotifyInApp = "notify.in_app";
inline constexpr std::string_view kNotifyPush = "notify.push";
inline constexpr std::string_view kNotifyEmail = "notify.email";
inline constexpr std::string_view kNotifyWebhook = "notify.webhook";
inline constexpr std::string_view kNotifyMqtt = "notify.mqtt";
// Personalised advertising (policy item 32): the switch exists and is off. Nightjar shows no
// advertising and embeds no advertising or tracking code, so it can be withdrawn (recorded)
// but never given.
inline constexpr std::string_view kAdsPersonalised = "ads.personalised";
// Whether a purpose can be given at all.
bool grantable(std::string_view purpose);
bool known_purpose(std::string_view purpose);
std::vector<std::string_view> purposes();

struct Consent {
  std::string purpose;
  bool granted = false;
  int64_t at_ms = 0;
  std::string policy_version;
  std::string method;  // how it was given or withdrawn: "app", "api", "notification"
};

class ConsentLedger {
 public:
  ConsentLedger(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // Told of every giving and withdrawing once it is recorded (a channel that keeps something
  // on another system, as home-automation discovery, takes it back at once). Set at start.
  using Listener =
      std::function<void(const std::string& user_id, std::string_view purpose, bool granted)>;
  void add_listener(Listener listener) { listeners_.push_back(std::move(listener)); }

  // Records a giving or withdrawing now; false for an unknown purpose or a failed write.
  bool record(std::string_view user_id, std::string_view purpose, bool granted,
              std::string_view policy_version, std::string_view method);
  // Whether the latest word on the purpose is yes. Read from the database every time, so a
  // withdrawal holds for the very next use.
  bool granted(std::string_view user_id, std::string_view purpose);
  // The latest word on each purpose the person ever answered.
  std::map<std::string, Consent> current(std::string_view user_id);
  // Every row, oldest first (for the person's own record and their export).
  std::vector<Consent> history(std::string_view user_id);

 private:
  store::Database& db_;
  const Clock& clock_;
  std::vector<Listener> listeners_;
};

}  // namespace nj::privacy
