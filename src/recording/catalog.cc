#include "recording/catalog.h"

#include <algorithm>

namespace nj::recording {
namespace {

using store::Value;

constexpr const char* kColumns =
    "id, device_id, region, store_key, run_id, start_ms, end_ms, start_ticks, init_size, bytes, "
    "media_bytes, state, fragments, key_generation, writer";
constexpr const char* kColumnsNoFragments =
    "id, device_id, region, store_key, run_id, start_ms, end_ms, start_ticks, init_size, bytes, "
    "media_bytes, state, '', key_generation, writer";

Segment from_row(const store::Row& r) {
  Segment s;
  s.id = r.integer(0);
  s.device_id = r.text(1);
  s.region = r.text(2);
  s.store_key = r.text(3);
  s.run_id = r.text(4);
  s.start_ms = r.integer(5);
  s.end_ms = r.integer(6);
  s.start_ticks = r.integer(7);
  s.init_size = static_cast<uint64_t>(r.integer(8));
  s.bytes = static_cast<uint64_t>(r.integer(9));
  s.media_bytes = static_cast<uint64_t>(r.integer(10));
  s.open = r.text(11) == "open";
  const std::string table = r.text(12);
  auto decoded = decode_fragments(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(table.data()), table.size()));
  if (decoded) s.fragments = std::move(*decoded);
  if (!r.is_null(13)) s.key_generation = r.integer(13);
  s.writer = r.text(14);
  return s;
}

std::vector<Segment> rows(store::StoreResult<store::Rows> r) {
  std::vector<Segment> out;
  if (!r) return out;
  out.reserve(r->size());
  for (const auto& row : *r) out.push_back(from_row(row));
  return out;
}

}  // namespace

store::StoreResult<int64_t> Catalog::create(const Segment& s) {
  const Value p[] = {s.device_id,
                     s.region,
                     s.store_key,
                     s.run_id,
                     s.start_ms,
                     s.end_ms,
                     s.start_ticks,
                     static_cast<int64_t>(s.init_size),
                     static_cast<int64_t>(s.bytes),
                     store::Blob(encode_fragments(s.fragments)),
                     s.key_generation ? Value(*s.key_generation) : Value(nullptr),
                     writer_};
  auto r = db_.query(
      "INSERT INTO recording_segments (device_id, region, store_key, run_id, start_ms, end_ms, "
      "start_ticks, init_size, bytes, fragments, key_generation, writer) VALUES ($1, $2, $3, "
      "$4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
      p);
  if (!r) return Unexpected(r.error());
  if (r->empty()) return Unexpected(store::StoreError{store::Errc::kSql, "no id returned"});
  return r->front().integer(0);
}

store::StoreResult<void> Catalog::save(const Segment& s, bool close) {
  const Value p[] = {s.id,
                     s.end_ms,
                     static_cast<int64_t>(s.bytes),
                     static_cast<int64_t>(s.media_bytes),
                     store::Blob(encode_fragments(s.fragments)),
                     std::string(close ? "closed" : "open"),
                     s.start_ms,
                     s.start_ticks};
  auto r = db_.execute(
      "UPDATE recording_segments SET end_ms = $2, bytes = $3, media_bytes = $4, fragments = $5, "
      "state = $6, start_ms = $7, start_ticks = $8 WHERE id = $1",
      p);
  if (!r) return Unexpected(r.error());
  return {};
}

store::StoreResult<void> Catalog::remove(int64_t id) {
  const Value p[] = {id};
  auto r = db_.execute("DELETE FROM recording_segments WHERE id = $1", p);
  if (!r) return Unexpected(r.error());
  return {};
}

store::StoreResult<void> Catalog::relocate(int64_t id, const std::string& region,
                                           const std::string& store_key) {
  const Value p[] = {id, region, store_key};
  auto r =
      db_.execute("UPDATE recording_segments SET region = $2, store_key = $3 WHERE id = $1", p);
  if (!r) return Unexpected(r.error());
  return {};
}

std::optional<Segment> Catalog::by_id(int64_t id) {
  const Value p[] = {id};
  auto found = rows(
      db_.query(std::string("SELECT ") + kColumns + " FROM recording_segments WHERE id = $1", p));
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

std::vector<Segment> Catalog::between(const std::string& device_id, int64_t from_ms, int64_t to_ms,
                                      bool with_fragments) {
  const Value p[] = {device_id, from_ms, to_ms};
  return rows(db_.query(std::string("SELECT ") + (with_fragments ? kColumns : kColumnsNoFragments) +
                            " FROM recording_segments WHERE device_id = $1 AND start_ms < $3 "
                            "AND end_ms > $2 ORDER BY start_ms",
                        p));
}

std::vector<std::string> Catalog::open_writers() {
  std::vector<std::string> out;
  auto r = db_.query("SELECT DISTINCT writer FROM recording_segments WHERE state = 'open'");
  if (!r) return out;
  for (const auto& row : *r) out.push_back(row.text(0));
  return out;
}

std::vector<Segment> Catalog::open_segments() {
  return rows(db_.query(std::string("SELECT ") + kColumns +
                        " FROM recording_segments WHERE state = 'open' ORDER BY id"));
}

std::vector<Segment> Catalog::ended_before(const std::string& device_id, int64_t before_ms) {
  const Value p[] = {device_id, before_ms};
  return rows(db_.query(std::string("SELECT ") + kColumnsNoFragments +
                            " FROM recording_segments WHERE device_id = $1 AND end_ms < $2 "
                            "AND state = 'closed' ORDER BY start_ms",
                        p));
}

std::vector<Segment> Catalog::of_device(const std::string& device_id) {
  const Value p[] = {device_id};
  return rows(db_.query(std::string("SELECT ") + kColumnsNoFragments +
                            " FROM recording_segments WHERE device_id = $1 ORDER BY start_ms",
                        p));
}

std::vector<std::string> Catalog::devices_with_media() {
  std::vector<std::string> out;
  auto r = db_.query("SELECT DISTINCT device_id FROM recording_segments");
  if (!r) return out;
  for (const auto& row : *r) out.push_back(row.text(0));
  return out;
}

uint64_t Catalog::bytes_of(const std::string& device_id) {
  const Value p[] = {device_id};
  auto r =
      db_.query("SELECT COALESCE(SUM(bytes), 0) FROM recording_segments WHERE device_id = $1", p);
  return r && !r->empty() ? static_cast<uint64_t>(r->front().integer(0)) : 0;
}

std::vector<Span> spans_of(const std::vector<Segment>& segments, int64_t from_ms, int64_t to_ms) {
  std::vector<Span> out;
  const Segment* previous = nullptr;
  for (const auto& s : segments) {
    const int64_t start = std::max(s.start_ms, from_ms), end = std::min(s.end_ms, to_ms);
    if (end <= start) continue;
    // One run, and the previous segment ended where this one starts: no gap between them.
    if (!out.empty() && previous && previous->run_id == s.run_id &&
        s.start_ms <= out.back().end_ms + 1) {
      out.back().end_ms = std::max(out.back().end_ms, end);
    } else {
      out.push_back({start, end});
    }
    previous = &s;
  }
  return out;
}

std::vector<Span> gaps_of(const std::vector<Span>& spans, int64_t from_ms, int64_t to_ms) {
  std::vector<Span> out;
  int64_t at = from_ms;
  for (const auto& s : spans) {
    if (s.start_ms > at) out.push_back({at, s.start_ms});
    at = std::max(at, s.end_ms);
  }
  if (at < to_ms) out.push_back({at, to_ms});
  return out;
}

}  // namespace nj::recording
