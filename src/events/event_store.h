// Events as rows: what happened in front of a camera or to it, with when, how sure, its
// picture's size, and whether each person has read it. Paged newest first by (start, id), so
// a page costs the same at the millionth event as at the first. Transport-free.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.h"

namespace nj::events {

// The longest a camera's own event may last: one that never says it ended is closed then.
inline constexpr int64_t kMaxReportedEventMs = 10 * 60 * 1000;

// A camera's own reports (motion, person, sound, device_alarm) and the server's (offline:
// from losing the camera to hearing from it again; privacy_mode: while it was on;
// sd_card and storage_full).
enum class Kind : uint8_t {
  kMotion,
  kPerson,
  kSound,
  kDeviceAlarm,
  kOffline,
  kPrivacyMode,
  kSdCard,
  kStorageFull,
};
inline constexpr Kind kAllKinds[] = {Kind::kMotion,      Kind::kPerson,     Kind::kSound,
                                     Kind::kDeviceAlarm, Kind::kOffline,    Kind::kPrivacyMode,
                                     Kind::kSdCard,      Kind::kStorageFull};
std::string_view kind_name(Kind k);
std::optional<Kind> parse_kind(std::string_view name);
// The kinds a camera may report itself; the others only the server makes.
bool reported_by_camera(Kind k);

struct Event {
  std::string id, device_id;
  Kind kind = Kind::kMotion;
  int64_t start_ms = 0;
  std::optional<int64_t> end_ms;  // nullopt while it goes on
  double score = 0;               // 0–1, how sure the detector was
  std::string zones;              // JSON array of zone names, "" for none
  std::optional<int64_t> snapshot_bytes;
  int64_t reports = 1;  // reports grouped into it
  bool read = false;    // for the person who asked
};

// Where a page ends: the last event's start and id. Written "start_ms.id".
struct Cursor {
  int64_t start_ms = 0;
  std::string id;
  std::string text() const;
  static std::optional<Cursor> parse(std::string_view text);
};

struct EventQuery {
  std::string user_id;  // whose read state
  std::vector<std::string> device_ids;
  std::optional<int64_t> from_ms, to_ms;  // events that started in [from, to)
  std::vector<Kind> kinds;                // empty: all
  bool unread_only = false;
  std::optional<Cursor> before;  // the next page: older than this
  size_t limit = 50;
};

struct EventPage {
  std::vector<Event> events;
  std::optional<Cursor> next;  // set when there may be more
};

class EventStore {
 public:
  explicit EventStore(store::Database& db) : db_(db) {}

  store::StoreResult<void> insert(const Event& e);
  // The event ended (or was bounded) at end_ms with this many reports and its best score.
  void close(std::string_view id, int64_t end_ms, int64_t reports, double score,
             const std::string& zones);
  // It goes on after all (a report came within the grouping time of its end).
  void reopen(std::string_view id);
  void set_snapshot(std::string_view id, int64_t bytes);

  // One event for a person (with their read state), or nullopt.
  std::optional<Event> get(std::string_view id, std::string_view user_id);
  EventPage list(const EventQuery& q);
  // What the timeline draws of each event of one device that overlaps [from, to), oldest
  // first, up to `limit`: no read state, no joins.
  struct Marker {
    std::string id;
    Kind kind = Kind::kMotion;
    int64_t start_ms = 0;
    std::optional<int64_t> end_ms;
    bool has_snapshot = false;
  };
  std::vector<Marker> markers(std::string_view device_id, int64_t from_ms, int64_t to_ms,
                              size_t limit);
  // Unread events on these devices for a person, counted up to `cap`.
  int64_t unread(std::string_view user_id, const std::vector<std::string>& device_ids,
                 int64_t cap = 1000);
  void set_read(std::string_view user_id, std::string_view event_id, bool read);
  // Everything that started at or before before_ms is read (one-event overrides go).
  void mark_all_read(std::string_view user_id, int64_t before_ms);
  // A person leaves: their read state goes.
  void forget_reader(std::string_view user_id);

  bool remove(std::string_view id);
  // Ids of a device's events that started before `before_ms` (all when nullopt), up to
  // `limit`, for deleting their pictures and then their rows.
  std::vector<std::string> ids_of(std::string_view device_id, std::optional<int64_t> before_ms,
                                  size_t limit);
  void remove_ids(const std::vector<std::string>& ids);
  // Devices that have events, for the reaper.
  std::vector<std::string> devices_with_events();
  // Events left open (a restart), to be closed.
  std::vector<Event> open_events();

 private:
  store::Database& db_;
};

}  // namespace nj::events
