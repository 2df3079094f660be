#include "events/event_store.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <tuple>

namespace nj::events {
namespace {

using store::Value;

constexpr std::array<std::string_view, 8> kNames = {"motion",       "person",      "sound",
                                                    "device_alarm", "offline",     "privacy_mode",
                                                    "sd_card",      "storage_full"};

// An event's columns, then whether the person ($1) has read it: their own mark on it, else
// whether it started by their "all read" mark.
constexpr const char* kSelect =
    "SELECT e.id, e.device_id, e.kind, e.start_ms, e.end_ms, e.score, e.zones, "
    "e.snapshot_bytes, e.reports, COALESCE(r.is_read, CASE WHEN e.start_ms <= "
    "COALESCE(m.before_ms, -1) THEN 1 ELSE 0 END) FROM events e "
    "LEFT JOIN event_reads r ON r.event_id = e.id AND r.user_id = $1 "
    "LEFT JOIN event_read_marks m ON m.user_id = $1 ";

Event from_row(const store::Row& r) {
  Event e;
  e.id = r.text(0);
  e.device_id = r.text(1);
  e.kind = parse_kind(r.text(2)).value_or(Kind::kMotion);
  e.start_ms = r.integer(3);
  if (!r.is_null(4)) e.end_ms = r.integer(4);
  e.score = r.real(5);
  e.zones = r.text(6);
  if (!r.is_null(7)) e.snapshot_bytes = r.integer(7);
  e.reports = r.integer(8);
  e.read = r.integer(9) != 0;
  return e;
}

// "$2, $3, …" for the values appended to params.
std::string placeholders(std::vector<Value>& params, const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) {
    params.emplace_back(v);
    if (!out.empty()) out += ", ";
    out += "$" + std::to_string(params.size());
  }
  return out;
}

std::string param(std::vector<Value>& params, Value v) {
  params.push_back(std::move(v));
  return "$" + std::to_string(params.size());
}

}  // namespace

std::string_view kind_name(Kind k) { return kNames[static_cast<size_t>(k)]; }

std::optional<Kind> parse_kind(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Kind>(i);
  }
  return std::nullopt;
}

bool reported_by_camera(Kind k) {
  return k == Kind::kMotion || k == Kind::kPerson || k == Kind::kSound || k == Kind::kDeviceAlarm;
}

std::string Cursor::text() const { return std::to_string(start_ms) + "." + id; }

std::optional<Cursor> Cursor::parse(std::string_view text) {
  const size_t dot = text.find('.');
  if (dot == std::string_view::npos || dot == 0 || text.size() - dot - 1 != 32) return std::nullopt;
  Cursor c;
  auto [end, ec] = std::from_chars(text.data(), text.data() + dot, c.start_ms);
  if (ec != std::errc() || end != text.data() + dot) return std::nullopt;
  c.id = std::string(text.substr(dot + 1));
  for (char ch : c.id) {
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return std::nullopt;
  }
  return c;
}

store::StoreResult<void> EventStore::insert(const Event& e) {
  const Value p[] = {e.id,
                     e.device_id,
                     std::string(kind_name(e.kind)),
                     e.start_ms,
                     e.end_ms ? Value{*e.end_ms} : Value{nullptr},
                     e.score,
                     e.zones,
                     int64_t{e.reports}};
  auto r = db_.execute(
      "INSERT INTO events (id, device_id, kind, start_ms, end_ms, score, zones, reports) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      p);
  if (!r) return Unexpected(r.error());
  return {};
}

void EventStore::close(std::string_view id, int64_t end_ms, int64_t reports, double score,
                       const std::string& zones) {
  const Value p[] = {std::string(id), end_ms, reports, score, zones};
  (void)db_.execute(
      "UPDATE events SET end_ms = $2, reports = $3, score = $4, zones = $5 WHERE id = $1", p);
}

void EventStore::reopen(std::string_view id) {
  const Value p[] = {std::string(id)};
  (void)db_.execute("UPDATE events SET end_ms = NULL WHERE id = $1", p);
}

void EventStore::set_snapshot(std::string_view id, int64_t bytes) {
  const Value p[] = {std::string(id), bytes};
  (void)db_.execute("UPDATE events SET snapshot_bytes = $2 WHERE id = $1", p);
}

std::optional<Event> EventStore::get(std::string_view id, std::string_view user_id) {
  const Value p[] = {std::string(user_id), std::string(id)};
  auto rows = db_.query(std::string(kSelect) + "WHERE e.id = $2", p);
  if (!rows || rows->empty()) return std::nullopt;
  return from_row(rows->front());
}

EventPage EventStore::list(const EventQuery& q) {
  EventPage page;
  if (q.device_ids.empty() || q.limit == 0) return page;
  std::vector<Value> params{q.user_id};
  std::string sql = kSelect;
  sql += "WHERE e.device_id IN (" + placeholders(params, q.device_ids) + ")";
  if (q.from_ms) sql += " AND e.start_ms >= " + param(params, *q.from_ms);
  if (q.to_ms) sql += " AND e.start_ms < " + param(params, *q.to_ms);
  if (!q.kinds.empty()) {
    std::vector<std::string> names;
    for (Kind k : q.kinds) names.emplace_back(kind_name(k));
    sql += " AND e.kind IN (" + placeholders(params, names) + ")";
  }
  if (q.before) {
    const std::string start = param(params, q.before->start_ms);
    const std::string id = param(params, q.before->id);
    sql +=
        " AND (e.start_ms < " + start + " OR (e.start_ms = " + start + " AND e.id < " + id + "))";
  }
  if (q.unread_only) {
    sql +=
        " AND COALESCE(r.is_read, CASE WHEN e.start_ms <= COALESCE(m.before_ms, -1) THEN 1 "
        "ELSE 0 END) = 0";
  }
  // One more than asked for tells whether there is a next page.
  sql += " ORDER BY e.start_ms DESC, e.id DESC LIMIT " +
         param(params, static_cast<int64_t>(q.limit + 1));
  auto rows = db_.query(sql, params);
  if (!rows) return page;
  for (const auto& r : *rows) page.events.push_back(from_row(r));
  if (page.events.size() > q.limit) {
    page.events.resize(q.limit);
    page.next = Cursor{page.events.back().start_ms, page.events.back().id};
  }
  return page;
}

std::vector<EventStore::Marker> EventStore::markers(std::string_view device_id, int64_t from_ms,
                                                    int64_t to_ms, size_t limit) {
  // A camera's own events last at most kMaxReportedEventMs, so those that overlap `from` start
  // shortly before it; the server's (offline, privacy mode) may last days and are few, found
  // by their own index.
  std::vector<Marker> out;
  const Value p[] = {std::string(device_id), from_ms, to_ms, static_cast<int64_t>(limit),
                     from_ms - kMaxReportedEventMs};
  constexpr const char* kColumns =
      "SELECT id, kind, start_ms, end_ms, snapshot_bytes IS NOT NULL FROM events ";
  auto long_ones = db_.query(
      std::string(kColumns) +
          "WHERE device_id = $1 AND kind IN ('offline', 'privacy_mode', 'sd_card', "
          "'storage_full') AND start_ms < $5 AND (end_ms IS NULL OR end_ms >= $2) AND $3 > $2 "
          "AND $4 > 0",
      p);
  // No ORDER BY there: it would make SQLite walk the camera's whole history in time order
  // (events_device_start) instead of the few long events by kind; they are sorted here.
  auto recent = db_.query(std::string(kColumns) +
                              "WHERE device_id = $1 AND start_ms >= $5 AND start_ms < $3 "
                              "AND (end_ms IS NULL OR end_ms >= $2) ORDER BY start_ms, id LIMIT $4",
                          p);
  for (const auto* rows : {long_ones ? &*long_ones : nullptr, recent ? &*recent : nullptr}) {
    if (!rows) continue;
    for (const auto& r : *rows) {
      Marker m;
      m.id = r.text(0);
      m.kind = parse_kind(r.text(1)).value_or(Kind::kMotion);
      m.start_ms = r.integer(2);
      if (!r.is_null(3)) m.end_ms = r.integer(3);
      m.has_snapshot = r.integer(4) != 0;
      out.push_back(std::move(m));
    }
  }
  const auto long_end =
      long_ones ? out.begin() + static_cast<std::ptrdiff_t>(long_ones->size()) : out.begin();
  std::sort(out.begin(), long_end, [](const Marker& a, const Marker& b) {
    return std::tie(a.start_ms, a.id) < std::tie(b.start_ms, b.id);
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

int64_t EventStore::unread(std::string_view user_id, const std::vector<std::string>& device_ids,
                           int64_t cap) {
  if (device_ids.empty()) return 0;
  std::vector<Value> params{std::string(user_id)};
  const std::string in = placeholders(params, device_ids);
  const std::string limit = param(params, cap);
  // After the person's mark, events not marked read; before it, only those marked unread.
  auto rows = db_.query(
      "SELECT count(*) FROM (SELECT 1 FROM events e "
      "LEFT JOIN event_reads r ON r.event_id = e.id AND r.user_id = $1 "
      "WHERE e.device_id IN (" +
          in +
          ") AND e.start_ms > COALESCE((SELECT before_ms FROM event_read_marks WHERE user_id = "
          "$1), -1) AND (r.is_read IS NULL OR r.is_read = 0) "
          "UNION ALL SELECT 1 FROM event_reads r JOIN events e ON e.id = r.event_id "
          "WHERE r.user_id = $1 AND r.is_read = 0 AND e.device_id IN (" +
          in +
          ") AND e.start_ms <= COALESCE((SELECT before_ms FROM event_read_marks WHERE user_id = "
          "$1), -1) LIMIT " +
          limit + ") AS unread",
      params);
  return rows && !rows->empty() ? rows->front().integer(0) : 0;
}

void EventStore::set_read(std::string_view user_id, std::string_view event_id, bool read) {
  const Value p[] = {std::string(user_id), std::string(event_id), int64_t{read ? 1 : 0}};
  (void)db_.execute(
      "INSERT INTO event_reads (user_id, event_id, is_read) VALUES ($1, $2, $3) "
      "ON CONFLICT (user_id, event_id) DO UPDATE SET is_read = excluded.is_read",
      p);
}

void EventStore::mark_all_read(std::string_view user_id, int64_t before_ms) {
  (void)db_.transaction([&](store::Database& db) -> store::StoreResult<void> {
    const Value p[] = {std::string(user_id), before_ms};
    if (auto r = db.execute("INSERT INTO event_read_marks (user_id, before_ms) VALUES ($1, $2) "
                            "ON CONFLICT (user_id) DO UPDATE SET before_ms = excluded.before_ms",
                            p);
        !r) {
      return Unexpected(r.error());
    }
    // Overrides of what the mark now covers go; those of later events stay.
    if (auto r = db.execute("DELETE FROM event_reads WHERE user_id = $1 AND event_id IN "
                            "(SELECT id FROM events WHERE start_ms <= $2)",
                            p);
        !r) {
      return Unexpected(r.error());
    }
    return {};
  });
}

void EventStore::forget_reader(std::string_view user_id) {
  const Value p[] = {std::string(user_id)};
  (void)db_.execute("DELETE FROM event_reads WHERE user_id = $1", p);
  (void)db_.execute("DELETE FROM event_read_marks WHERE user_id = $1", p);
}

bool EventStore::remove(std::string_view id) {
  const Value p[] = {std::string(id)};
  (void)db_.execute("DELETE FROM event_reads WHERE event_id = $1", p);
  auto r = db_.execute("DELETE FROM events WHERE id = $1", p);
  return r && *r > 0;
}

std::vector<std::string> EventStore::ids_of(std::string_view device_id,
                                            std::optional<int64_t> before_ms, size_t limit) {
  const Value p[] = {std::string(device_id), before_ms ? Value{*before_ms} : Value{nullptr},
                     static_cast<int64_t>(limit)};
  auto rows = db_.query(
      "SELECT id FROM events WHERE device_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR start_ms < "
      "$2) "
      "ORDER BY start_ms LIMIT $3",
      p);
  std::vector<std::string> out;
  if (!rows) return out;
  for (const auto& r : *rows) out.push_back(r.text(0));
  return out;
}

void EventStore::remove_ids(const std::vector<std::string>& ids) {
  if (ids.empty()) return;
  (void)db_.transaction([&](store::Database& db) -> store::StoreResult<void> {
    for (const auto& id : ids) {
      const Value p[] = {id};
      if (auto r = db.execute("DELETE FROM event_reads WHERE event_id = $1", p); !r) {
        return Unexpected(r.error());
      }
      if (auto r = db.execute("DELETE FROM events WHERE id = $1", p); !r) {
        return Unexpected(r.error());
      }
    }
    return {};
  });
}

std::vector<std::string> EventStore::devices_with_events() {
  auto rows = db_.query("SELECT DISTINCT device_id FROM events");
  std::vector<std::string> out;
  if (!rows) return out;
  for (const auto& r : *rows) out.push_back(r.text(0));
  return out;
}

std::vector<Event> EventStore::open_events() {
  const Value p[] = {std::string()};
  auto rows = db_.query(std::string(kSelect) + "WHERE e.end_ms IS NULL", p);
  std::vector<Event> out;
  if (!rows) return out;
  for (const auto& r : *rows) out.push_back(from_row(r));
  return out;
}

}  // namespace nj::events
