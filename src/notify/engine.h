// Who is told about an event, and how: the camera's owner and the people it is shared with
// as family or admin, each by their own preferences (arming mode, the camera's Home and Away
// switches, a snooze, the kinds they want, quiet hours) and only on the channels they
// consented to, checked at that moment (a withdrawal holds for the very next event). Within a
// person's cooldown, further events of the same camera and kind are grouped: one
// notification now, and one summary with the count when the cooldown ends, so a busy scene
// sends two, not a hundred.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/clock.h"
#include "common/time_zone.h"
#include "device/service.h"
#include "events/event_store.h"
#include "notify/preferences.h"
#include "privacy/consents.h"

namespace nj::notify {

struct Notification {
  std::string id;  // random, for the channels' de-duplication
  std::string user_id, language;
  std::string event_id, device_id, device_name;
  events::Kind kind = events::Kind::kMotion;
  int64_t at_ms = 0;    // when the event began
  int64_t grouped = 0;  // a summary: how many events of this camera and kind it stands for
  int64_t made_us = 0;  // steady clock when it was decided (for the delivery latency)
  // Lets a notification's "Silence 30 min" button act without a session (ActionTokens).
  std::string snooze_token;
};

// A way to reach a person. deliver() must not block: queue and return.
class Channel {
 public:
  virtual ~Channel() = default;
  virtual std::string_view purpose() const = 0;  // the consent it needs (privacy::kNotify…)
  virtual void deliver(const Notification& n) = 0;
};

// Why a person was not told, counted in /metrics.
enum class Skip { kDisarmed, kCameraOff, kSnoozed, kKindOff, kQuietHours, kGrouped, kNoConsent };
std::string_view skip_name(Skip s);

class NotificationEngine {
 public:
  using People = std::function<std::vector<std::pair<std::string, device::Role>>(
      const std::string& device_id)>;
  using NameOf = std::function<std::string(const std::string& device_id)>;
  using LanguageOf = std::function<std::string(const std::string& user_id)>;
  using Counter = std::function<void(std::string_view outcome)>;

  NotificationEngine(Preferences& prefs, privacy::ConsentLedger& consents, TimeZones& zones,
                     const Clock& clock, People people, NameOf name_of, LanguageOf language_of);

  void add_channel(Channel* channel);
  // Counted outcomes: "sent:<purpose>" or a skip's name.
  void set_counter(Counter counter) { counter_ = std::move(counter); }
  // Mints the snooze token each notification carries (set at start).
  using SnoozeMinter =
      std::function<std::string(const std::string& user_id, const std::string& device_id)>;
  void set_snooze_minter(SnoozeMinter minter) { snooze_minter_ = std::move(minter); }

  // An event began: decide for each person. (Ends are not notified.)
  void on_event(const events::Event& e);
  // Sends the summaries of groups whose cooldown has ended. Call every second or so.
  void tick();

 private:
  struct Group {
    int64_t last_sent_ms = 0;
    int64_t pending = 0;
    std::string latest_event_id;
    int64_t latest_at_ms = 0;
    std::string device_name, language;
  };
  using GroupKey = std::tuple<std::string, std::string, events::Kind>;  // user, device, kind
  // Whether the person wants to hear now (nullopt) or why not.
  std::optional<Skip> wanted(const std::string& user_id, const events::Event& e, int64_t now);
  // The channels the person consents to now (the ledger, read at this moment).
  std::vector<Channel*> consented(const std::string& user_id);
  void send(Notification n, const std::vector<Channel*>& channels);
  void count(std::string_view outcome);

  Preferences& prefs_;
  privacy::ConsentLedger& consents_;
  TimeZones& zones_;
  const Clock& clock_;
  People people_;
  NameOf name_of_;
  LanguageOf language_of_;
  Counter counter_;
  SnoozeMinter snooze_minter_;
  std::vector<Channel*> channels_;
  std::mutex mu_;
  std::map<GroupKey, Group> groups_;
  std::map<std::string, int> cooldowns_;  // user → seconds, as last read
};

}  // namespace nj::notify
