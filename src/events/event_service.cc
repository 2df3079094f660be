#include "events/event_service.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/random.h"

namespace nj::events {

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kStarted:
      return "started";
    case Outcome::kGrouped:
      return "grouped";
    case Outcome::kEnded:
      return "ended";
    case Outcome::kIgnored:
      return "ignored";
    case Outcome::kRefused:
      return "refused";
  }
  return "refused";
}

EventService::EventService(EventStore& store, SnapshotFiles& files, const Clock& clock,
                           DeviceOf device_of, EventServiceOptions options)
    : store_(store),
      files_(files),
      clock_(clock),
      device_of_(std::move(device_of)),
      options_(options) {}

EventService::~EventService() {
  std::lock_guard lock(life_->mu);
  life_->alive = false;
}

void EventService::clear_listeners() {
  std::lock_guard lock(listeners_mu_);
  listeners_.clear();
}

void EventService::add_listener(Listener listener) {
  std::lock_guard lock(listeners_mu_);
  listeners_.push_back(std::move(listener));
}

void EventService::tell(const std::vector<std::pair<Event, Change>>& changes) {
  if (changes.empty()) return;
  std::lock_guard lock(listeners_mu_);
  for (const auto& [event, change] : changes) {
    for (const auto& l : listeners_) l(event, change);
  }
}

EventService::DeviceState* EventService::device_locked(const std::string& serial) {
  auto it = devices_.find(serial);
  if (it != devices_.end()) return &it->second;
  auto id = device_of_(serial);
  if (!id) return nullptr;
  DeviceState d;
  d.device_id = std::move(*id);
  d.tokens = options_.burst;
  d.tokens_at_ms = clock_.now_ms();
  return &devices_.emplace(serial, std::move(d)).first->second;
}

namespace {

constexpr size_t kMaxZones = 8;

void add_zones(std::vector<std::string>& into, const std::vector<std::string>& zones) {
  for (const auto& z : zones) {
    if (into.size() >= kMaxZones) return;
    if (std::find(into.begin(), into.end(), z) == into.end()) into.push_back(z);
  }
}

std::string zones_json(const std::vector<std::string>& zones) {
  return zones.empty() ? std::string() : nlohmann::json(zones).dump();
}

}  // namespace

std::optional<Event> EventService::start_locked(DeviceState& d, Kind kind, double score,
                                                int64_t now, Outcome& outcome,
                                                const std::vector<std::string>& zones) {
  // Refill the camera's allowance of new events.
  d.tokens = std::min(options_.burst, d.tokens + static_cast<double>(now - d.tokens_at_ms) *
                                                     options_.new_per_second / 1000.0);
  d.tokens_at_ms = now;
  auto latest = d.latest.find(kind);
  if (latest != d.latest.end()) {
    Open& e = latest->second;
    const bool recent = e.open || now - e.last_end_ms <= options_.group_ms;
    // Within the grouping time, or over the camera's allowance: the same event goes on.
    if (recent || d.tokens < 1.0) {
      ++e.reports;
      e.score = std::max(e.score, score);
      add_zones(e.zones, zones);
      outcome = Outcome::kGrouped;
      if (!e.open) {
        e.open = true;
        store_.reopen(e.id);
      }
      return std::nullopt;
    }
  }
  d.tokens -= 1.0;
  Event ev;
  ev.id = random_hex_id();
  ev.device_id = d.device_id;
  ev.kind = kind;
  ev.start_ms = now;
  ev.score = score;
  std::vector<std::string> seen;
  add_zones(seen, zones);
  ev.zones = zones_json(seen);
  if (!store_.insert(ev)) {
    outcome = Outcome::kIgnored;
    return std::nullopt;
  }
  d.latest[kind] = Open{ev.id, now, 0, 1, score, true, std::move(seen)};
  outcome = Outcome::kStarted;
  return ev;
}

std::optional<Event> EventService::end_locked(DeviceState& d, Kind kind, int64_t now) {
  auto it = d.latest.find(kind);
  if (it == d.latest.end() || !it->second.open) return std::nullopt;
  Open& e = it->second;
  e.open = false;
  e.last_end_ms = now;
  const std::string zones = zones_json(e.zones);
  store_.close(e.id, now, e.reports, e.score, zones);
  Event ev;
  ev.id = e.id;
  ev.device_id = d.device_id;
  ev.kind = kind;
  ev.start_ms = e.start_ms;
  ev.end_ms = now;
  ev.score = e.score;
  ev.reports = e.reports;
  ev.zones = zones;
  return ev;
}

Outcome EventService::report(const std::string& serial, std::string_view kind_name, bool start,
                             double score, const std::vector<std::string>& zones) {
  const auto kind = parse_kind(kind_name);
  if (!kind || !reported_by_camera(*kind)) return Outcome::kRefused;
  const int64_t now = clock_.now_ms();
  std::vector<std::pair<Event, Change>> changes;
  Outcome outcome = Outcome::kIgnored;
  std::optional<Event> started;
  {
    std::lock_guard lock(mu_);
    DeviceState* d = device_locked(serial);
    if (!d) return Outcome::kRefused;
    if (start) {
      started = start_locked(*d, *kind, std::clamp(score, 0.0, 1.0), now, outcome, zones);
      if (started) changes.emplace_back(*started, Change::kStarted);
    } else {
      // An end may name more zones (those seen while it went on).
      auto open = d->latest.find(*kind);
      if (open != d->latest.end() && open->second.open) add_zones(open->second.zones, zones);
      if (auto ended = end_locked(*d, *kind, now)) {
        outcome = Outcome::kEnded;
        changes.emplace_back(std::move(*ended), Change::kEnded);
      }
    }
  }
  if (started) take_picture(serial, *started);
  tell(changes);
  return outcome;
}

void EventService::state(const std::string& serial, bool online, bool privacy_mode) {
  const int64_t now = clock_.now_ms();
  std::vector<std::pair<Event, Change>> changes;
  {
    std::lock_guard lock(mu_);
    DeviceState* d = device_locked(serial);
    if (!d) return;
    Outcome ignored;
    const auto edge = [&](std::optional<bool>& known, bool now_on, Kind kind) {
      const bool first = !known;
      const bool was = known.value_or(now_on);
      known = now_on;
      if (first || was == now_on) return;
      // Grouped and bounded like a camera's own reports: a camera whose connection flaps
      // (or that flaps it on purpose) is one offline event with a count, not a row a flap.
      if (now_on) {
        if (auto e = start_locked(*d, kind, 1.0, now, ignored)) {
          changes.emplace_back(std::move(*e), Change::kStarted);
        }
      } else if (auto e = end_locked(*d, kind, now)) {
        changes.emplace_back(std::move(*e), Change::kEnded);
      }
    };
    edge(d->offline, !online, Kind::kOffline);
    if (online) edge(d->privacy, privacy_mode, Kind::kPrivacyMode);
    if (!online) {
      // An offline camera reports nothing more: what it had open ends now.
      for (Kind k : kAllKinds) {
        if (!reported_by_camera(k)) continue;
        if (auto e = end_locked(*d, k, now)) changes.emplace_back(std::move(*e), Change::kEnded);
      }
    }
  }
  tell(changes);
}

void EventService::condition(const std::string& serial, Kind kind, bool on) {
  if (kind != Kind::kSdCard && kind != Kind::kStorageFull) return;
  const int64_t now = clock_.now_ms();
  std::vector<std::pair<Event, Change>> changes;
  {
    std::lock_guard lock(mu_);
    DeviceState* d = device_locked(serial);
    if (!d) return;
    bool& was = d->conditions[kind];  // off until heard otherwise
    if (was == on) return;
    was = on;
    Outcome ignored;
    if (on) {
      if (auto e = start_locked(*d, kind, 1.0, now, ignored)) {
        changes.emplace_back(std::move(*e), Change::kStarted);
      }
    } else if (auto e = end_locked(*d, kind, now)) {
      changes.emplace_back(std::move(*e), Change::kEnded);
    }
  }
  tell(changes);
}

void EventService::tick() {
  const int64_t now = clock_.now_ms();
  std::vector<std::pair<Event, Change>> changes;
  {
    std::lock_guard lock(mu_);
    for (auto& [serial, d] : devices_) {
      for (auto& [kind, e] : d.latest) {
        if (!e.open || !reported_by_camera(kind) || now - e.start_ms < options_.max_reported_ms) {
          continue;
        }
        if (auto ended = end_locked(d, kind, e.start_ms + options_.max_reported_ms)) {
          changes.emplace_back(std::move(*ended), Change::kEnded);
        }
      }
    }
  }
  tell(changes);
}

void EventService::forget(const std::string& serial, const std::string& device_id) {
  {
    std::lock_guard lock(mu_);
    devices_.erase(serial);
  }
  for (;;) {
    auto ids = store_.ids_of(device_id, std::nullopt, 500);
    if (ids.empty()) break;
    store_.remove_ids(ids);
  }
  files_.remove_device(device_id);
}

void EventService::close_left_open() {
  for (const auto& e : store_.open_events())
    store_.close(e.id, e.start_ms, e.reports, e.score, e.zones);
}

void EventService::take_picture(const std::string& serial, const Event& e) {
  // Pictures are of what a camera saw; the server's own events (offline…) have none.
  if (!taker_ || !reported_by_camera(e.kind)) return;
  taker_->take(
      serial, e.id,
      [this, life = life_, device_id = e.device_id, id = e.id](std::optional<std::string> jpeg) {
        std::lock_guard lock(life->mu);
        if (!life->alive) return;
        // Not for an event gone meanwhile (deleted, or its binding ended).
        if (!jpeg || !store_.get(id, "")) return;
        if (files_.write(device_id, id, *jpeg)) {
          store_.set_snapshot(id, static_cast<int64_t>(jpeg->size()));
        }
      });
}

}  // namespace nj::events
