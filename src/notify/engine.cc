#include "notify/engine.h"

#include <algorithm>
#include <chrono>

#include "common/random.h"
#include "device/privacy_schedule.h"
#include "device_protocol/json_input.h"

namespace nj::notify {
std::string_view skip_name(Skip s) {
  switch (s) {
    case Skip::kDisarmed:
      return "disarmed";
    case Skip::kCameraOff:
      return "camera_off";
    case Skip::kSnoozed:
      return "snoozed";
    case Skip::kKindOff:
      return "kind_off";
    case Skip::kQuietHours:
      return "quiet_hours";
    case Skip::kGrouped:
      return "grouped";
    case Skip::kNoConsent:
      return "no_consent";
  }
  return "unknown";
}

NotificationEngine::NotificationEngine(Preferences& prefs, privacy::ConsentLedger& consents,
                                       TimeZones& zones, const Clock& clock, People people,
                                       NameOf name_of, LanguageOf language_of)
    : prefs_(prefs),
      consents_(consents),
      zones_(zones),
      clock_(clock),
      people_(std::move(people)),
      name_of_(std::move(name_of)),
      language_of_(std::move(language_of)) {}

void NotificationEngine::add_channel(Channel* channel) { channels_.push_back(channel); }

void NotificationEngine::count(std::string_view outcome) {
  if (counter_) counter_(outcome);
}

std::optional<Skip> NotificationEngine::wanted(const std::string& user_id, const events::Event& e,
                                               int64_t now) {
  const Settings s = prefs_.settings(user_id);
  {
    std::lock_guard lock(mu_);
    cooldowns_[user_id] = s.cooldown_s;
  }
  if (s.mode == Mode::kDisarmed) return Skip::kDisarmed;
  const CameraPrefs c = prefs_.camera(user_id, e.device_id);
  if ((s.mode == Mode::kHome && !c.home) || (s.mode == Mode::kAway && !c.away)) {
    return Skip::kCameraOff;
  }
  if (c.snooze_until_ms && *c.snooze_until_ms > now) return Skip::kSnoozed;
  if (std::find(s.kinds.begin(), s.kinds.end(), e.kind) == s.kinds.end()) return Skip::kKindOff;
  if (!s.quiet_hours.empty()) {
    // Stored after read_privacy_schedule accepted it; read back the same way.
    if (auto j = device_protocol::parse_json(s.quiet_hours, {16 * 1024, 4})) {
      if (auto quiet = device::read_privacy_schedule(*j); quiet && quiet->enabled) {
        if (auto zone = zones_.find(quiet->time_zone);
            zone && device::last_edge(*quiet, *zone, now).privacy) {
          return Skip::kQuietHours;
        }
      }
    }
  }
  return std::nullopt;
}

void NotificationEngine::on_event(const events::Event& e) {
  const int64_t now = clock_.now_ms();
  std::string device_name;
  for (const auto& [user_id, role] : people_(e.device_id)) {
    if (role < device::Role::kFamily) continue;  // viewers watch; they are not alerted
    if (auto skip = wanted(user_id, e, now)) {
      count(skip_name(*skip));
      continue;
    }
    // Nobody told on no channel is nothing to group: the cooldown starts with a delivery.
    const auto channels = consented(user_id);
    if (channels.empty()) continue;
    if (device_name.empty()) device_name = name_of_(e.device_id);
    const std::string language = language_of_(user_id);
    {
      std::lock_guard lock(mu_);
      auto& g = groups_[{user_id, e.device_id, e.kind}];
      const int64_t cooldown_ms = int64_t{cooldowns_[user_id]} * 1000;
      if (g.last_sent_ms != 0 && now - g.last_sent_ms < cooldown_ms) {
        ++g.pending;
        g.latest_event_id = e.id;
        g.latest_at_ms = e.start_ms;
        g.device_name = device_name;
        g.language = language;
        count(skip_name(Skip::kGrouped));
        continue;
      }
      g.last_sent_ms = now;
      g.pending = 0;
    }
    Notification n;
    n.user_id = user_id;
    n.language = language;
    n.event_id = e.id;
    n.device_id = e.device_id;
    n.device_name = device_name;
    n.kind = e.kind;
    n.at_ms = e.start_ms;
    send(std::move(n), channels);
  }
}

void NotificationEngine::tick() {
  const int64_t now = clock_.now_ms();
  std::vector<Notification> summaries;
  {
    std::lock_guard lock(mu_);
    for (auto it = groups_.begin(); it != groups_.end();) {
      auto& [key, g] = *it;
      const int64_t cooldown_ms = int64_t{cooldowns_[std::get<0>(key)]} * 1000;
      if (now - g.last_sent_ms < cooldown_ms) {
        ++it;
        continue;
      }
      if (g.pending == 0) {  // quiet for a whole cooldown: forgotten
        it = groups_.erase(it);
        continue;
      }
      Notification n;
      n.user_id = std::get<0>(key);
      n.device_id = std::get<1>(key);
      n.kind = std::get<2>(key);
      n.event_id = g.latest_event_id;
      n.at_ms = g.latest_at_ms;
      n.device_name = g.device_name;
      n.language = g.language;
      n.grouped = g.pending;
      summaries.push_back(std::move(n));
      g.pending = 0;
      g.last_sent_ms = now;
      ++it;
    }
  }
  for (auto& n : summaries) {
    // Asked when the summary goes: a consent withdrawn during the cooldown holds.
    const auto channels = consented(n.user_id);
    if (!channels.empty()) send(std::move(n), channels);
  }
}

std::vector<Channel*> NotificationEngine::consented(const std::string& user_id) {
  std::vector<Channel*> out;
  for (Channel* c : channels_) {
    if (consents_.granted(user_id, c->purpose())) out.push_back(c);
  }
  // Counted once for a person told nothing, and once per channel refused besides others.
  const size_t refused = out.empty() ? 1 : channels_.size() - out.size();
  for (size_t i = 0; i < refused; ++i) count(skip_name(Skip::kNoConsent));
  return out;
}

void NotificationEngine::send(Notification n, const std::vector<Channel*>& channels) {
  n.id = random_hex_id();
  if (snooze_minter_) n.snooze_token = snooze_minter_(n.user_id, n.device_id);
  n.made_us = steady_now_us();
  for (Channel* c : channels) {
    c->deliver(n);
    count("sent:" + std::string(c->purpose()));
  }
}

}  // namespace nj::notify
