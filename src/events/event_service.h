// The event pipeline's first stage: a camera's reports (motion start/end, …) and the
// server's own observations (the camera went offline, privacy mode turned on) become events.
// A busy scene is grouped, not multiplied: a start within `group_ms` of the same kind's last
// end continues that event, and each camera may open at most `burst` new events at once and
// `new_per_second` after that (more reports join its latest event and are counted). A camera
// event that never says it ended is closed after kMaxReportedEventMs. Each new event gets a
// picture (SnapshotTaker) and is told to the listeners (notifications).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "events/event_store.h"
#include "events/snapshot_files.h"

namespace nj::events {

struct EventServiceOptions {
  int64_t group_ms = 5000;
  double new_per_second = 1.0;
  double burst = 10.0;
  int64_t max_reported_ms = kMaxReportedEventMs;
};

// Makes the picture of a new event: done(jpeg) once, nullopt when there is none to be had.
class SnapshotTaker {
 public:
  virtual ~SnapshotTaker() = default;
  // A picture for event `event_id` of the camera, which has just begun.
  virtual void take(const std::string& serial, const std::string& event_id,
                    std::function<void(std::optional<std::string> jpeg)> done) = 0;
};

// What a report became, counted in /metrics.
enum class Outcome { kStarted, kGrouped, kEnded, kIgnored, kRefused };
std::string_view outcome_name(Outcome o);

class EventService {
 public:
  enum class Change { kStarted, kEnded };
  using Listener = std::function<void(const Event& event, Change change)>;
  // Which device a serial is now (nullopt: unknown or not bound: its reports are refused).
  using DeviceOf = std::function<std::optional<std::string>(const std::string& serial)>;

  EventService(EventStore& store, SnapshotFiles& files, const Clock& clock, DeviceOf device_of,
               EventServiceOptions options = {});

  void set_snapshot_taker(SnapshotTaker* taker) { taker_ = taker; }
  ~EventService();
  // Called on the thread that made the change, outside the service's lock.
  void add_listener(Listener listener);
  // No more listeners: waits for a call under way (before what they name goes).
  void clear_listeners();

  // A camera's own report: kind is one it may report (motion, person, sound, device_alarm),
  // and the zones it happened in (a grouped event gathers the zones of all its reports).
  Outcome report(const std::string& serial, std::string_view kind, bool start, double score,
                 const std::vector<std::string>& zones = {});
  // The camera's state as it said it: offline opens an offline event, online ends it;
  // privacy mode on and off likewise. The first state heard of a camera only sets what is known.
  void state(const std::string& serial, bool online, bool privacy_mode);
  // A condition the server sees for a camera, lasting as long as it holds: its SD card
  // failing (kSdCard, from the card's health in telemetry) or its cloud storage full
  // (kStorageFull, the recorder paused for space). Only changes make or end events.
  void condition(const std::string& serial, Kind kind, bool on);
  // Closes camera events that never ended. Call every few seconds.
  void tick();
  // The binding ended: its events, their pictures and what is remembered of it go.
  void forget(const std::string& serial, const std::string& device_id);
  // At start: events left open by a stop are closed at their start (nothing says how long
  // they went on).
  void close_left_open();

 private:
  struct Open {
    std::string id;
    int64_t start_ms = 0, last_end_ms = 0;
    int64_t reports = 1;
    double score = 0;
    bool open = false;
    std::vector<std::string> zones;  // in the order first seen, at most kMaxZones
  };
  struct DeviceState {
    std::string device_id;
    std::map<Kind, Open> latest;  // the latest event of each kind
    double tokens = 0;
    int64_t tokens_at_ms = 0;
    std::optional<bool> offline, privacy;  // as last heard
    std::map<Kind, bool> conditions;       // sd_card, storage_full: on or off
  };
  // Under mu_: starts or continues an event; returns it to tell listeners.
  std::optional<Event> start_locked(DeviceState& d, Kind kind, double score, int64_t now,
                                    Outcome& outcome, const std::vector<std::string>& zones = {});
  std::optional<Event> end_locked(DeviceState& d, Kind kind, int64_t now);
  DeviceState* device_locked(const std::string& serial);
  void tell(const std::vector<std::pair<Event, Change>>& changes);
  void take_picture(const std::string& serial, const Event& e);

  EventStore& store_;
  SnapshotFiles& files_;
  const Clock& clock_;
  DeviceOf device_of_;
  EventServiceOptions options_;
  SnapshotTaker* taker_ = nullptr;
  std::mutex mu_;
  std::map<std::string, DeviceState> devices_;  // by serial
  std::mutex listeners_mu_;
  std::vector<Listener> listeners_;
  // Pictures may be made after this service is gone (a decode on the shared workers): their
  // answers find it gone here and do nothing.
  struct Life {
    std::mutex mu;
    bool alive = true;
  };
  std::shared_ptr<Life> life_ = std::make_shared<Life>();
};

}  // namespace nj::events
