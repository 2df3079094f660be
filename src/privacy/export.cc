#include "privacy/export.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/random.h"
#include "common/zip_writer.h"
#include "keys/records.h"

namespace nj::privacy {
namespace {

using nlohmann::json;
using store::Value;

std::string export_context(std::string_view id) { return "nightjar-export\n" + std::string(id); }

// The rows of a query as JSON objects, the columns named in order.
json rows_json(store::Database& db, const std::string& sql, std::span<const Value> params,
               std::initializer_list<const char*> names) {
  json out = json::array();
  auto rows = db.query(sql, params);
  if (!rows) return out;
  for (const auto& r : *rows) {
    json o = json::object();
    size_t i = 0;
    for (const char* name : names) {
      const auto& v = r.values.at(i++);
      if (std::holds_alternative<int64_t>(v)) {
        o[name] = std::get<int64_t>(v);
      } else if (std::holds_alternative<double>(v)) {
        o[name] = std::get<double>(v);
      } else if (std::holds_alternative<std::string>(v)) {
        o[name] = std::get<std::string>(v);
      } else {
        o[name] = nullptr;
      }
    }
    out.push_back(std::move(o));
  }
  return out;
}

ExportState from_row(const store::Row& r) {
  ExportState e;
  e.id = r.text(0);
  e.state = r.text(1);
  e.done = r.integer(2);
  e.total = r.integer(3);
  e.created_at = r.integer(4);
  if (!r.is_null(5)) e.ready_at = r.integer(5);
  if (!r.is_null(6)) e.expires_at = r.integer(6);
  if (r.values.size() > 7 && !r.is_null(7)) e.with_recordings = r.integer(7) != 0;
  return e;
}

constexpr const char* kOwned = "(SELECT id FROM devices WHERE owner_id = $1)";

}  // namespace

std::optional<ExportState> Exports::request(std::string_view user_id, bool with_recordings) {
  if (auto last = latest(user_id); last && (last->state == "queued" || last->state == "building")) {
    return std::nullopt;
  }
  const std::string id = random_hex_id();
  const Value p[] = {id, std::string(user_id), clock_.now_ms(), int64_t{with_recordings ? 1 : 0}};
  if (!db_.execute("INSERT INTO exports (id, user_id, state, created_at, with_recordings) "
                   "VALUES ($1, $2, 'queued', $3, $4)",
                   p)) {
    return std::nullopt;
  }
  const Value by_id[] = {id};
  auto rows = db_.query(
      "SELECT id, state, done, total, created_at, ready_at, expires_at, with_recordings FROM "
      "exports WHERE id = $1",
      by_id);
  if (!rows || rows->empty()) return std::nullopt;
  return from_row((*rows)[0]);
}

std::optional<ExportState> Exports::latest(std::string_view user_id) {
  const Value p[] = {std::string(user_id)};
  auto rows = db_.query(
      "SELECT id, state, done, total, created_at, ready_at, expires_at, with_recordings FROM "
      "exports WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
      p);
  if (!rows || rows->empty()) return std::nullopt;
  return from_row((*rows)[0]);
}

bool Exports::lasts(std::string_view user_id, std::string_view id) {
  const Value p[] = {std::string(user_id), std::string(id), clock_.now_ms()};
  auto rows = db_.query(
      "SELECT id FROM exports WHERE user_id = $1 AND id = $2 AND state = 'ready' AND "
      "expires_at > $3",
      p);
  return rows && !rows->empty();
}

static std::string object_key(std::string_view user_id, std::string_view id) {
  return std::string(user_id) + "/" + std::string(id) + ".zip";
}

Result<Exports::Download, recording::Unreadable> Exports::open(std::string_view user_id,
                                                               std::string_view id) {
  const auto missing = Unexpected(recording::Unreadable::kMissing);
  if (!lasts(user_id, id)) return missing;
  const auto path = dir_of(user_id) / (std::string(id) + ".zip");
  if (auto* store = store_of(user_id)) {
    const auto key = object_key(user_id, id);
    const auto sealed_size = store->size(key);
    if (!sealed_size && !sealed_size.error().starts_with(recording::kNoFile)) {
      return Unexpected(recording::Unreadable::kUnavailable);
    }
    if (sealed_size) {
      // The size may be what this node listed before: a byte read now tells whether the
      // bucket answers, before a download is promised.
      if (auto probe = store->read(key, 0, 1); !probe) {
        return Unexpected(probe.error().starts_with(recording::kNoFile)
                              ? recording::Unreadable::kMissing
                              : recording::Unreadable::kUnavailable);
      }
      auto source = [store, key](uint64_t at, uint64_t n) -> std::optional<std::vector<uint8_t>> {
        auto bytes = store->read(key, at, n);
        if (!bytes || bytes->size() != n) return std::nullopt;
        return std::move(*bytes);
      };
      if (!keys_) return Download{*sealed_size, source};
      auto k = keys_->export_key(user_id, id, false);
      if (!k) return missing;
      std::shared_ptr<keys::SealedFileReader> reader =
          keys::SealedFileReader::open(source, *sealed_size, *k, export_context(id));
      if (!reader) return missing;  // not the length of a sealed export
      return Download{reader->size(),
                      [reader](uint64_t at, uint64_t n) { return reader->read(at, n); }};
    }
    // Not in the bucket: an export from before it, in files.
  }
  if (keys_) {
    auto key = keys_->export_key(user_id, id, false);
    if (!key) return missing;
    std::shared_ptr<keys::SealedFileReader> reader =
        keys::SealedFileReader::open(path, *key, export_context(id));
    if (!reader) return missing;
    return Download{reader->size(),
                    [reader](uint64_t at, uint64_t n) { return reader->read(at, n); }};
  }
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return missing;
  return Download{size, [path](uint64_t at, uint64_t n) -> std::optional<std::vector<uint8_t>> {
                    std::ifstream in(path, std::ios::binary);
                    if (!in.seekg(static_cast<std::streamoff>(at))) return std::nullopt;
                    std::vector<uint8_t> bytes(n);
                    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(n));
                    if (in.gcount() != static_cast<std::streamsize>(n)) return std::nullopt;
                    return bytes;
                  }};
}

void Exports::set_progress(const std::string& id, int64_t done, int64_t total) {
  const Value p[] = {id, done, total};
  (void)db_.execute("UPDATE exports SET done = $2, total = $3 WHERE id = $1", p);
}

bool Exports::run_next() {
  auto rows = db_.query(
      "SELECT e.id, e.state, e.done, e.total, e.created_at, e.ready_at, e.expires_at, "
      "e.with_recordings, e.user_id FROM exports e WHERE e.state = 'queued' "
      "ORDER BY e.created_at LIMIT 1");
  if (!rows || rows->empty()) return false;
  const auto e = from_row((*rows)[0]);
  const std::string user_id = (*rows)[0].text(8);
  const Value id[] = {e.id};
  (void)db_.execute("UPDATE exports SET state = 'building' WHERE id = $1", id);
  const bool ok = build(e, user_id);
  const int64_t now = clock_.now_ms();
  const Value done[] = {e.id, std::string(ok ? "ready" : "failed"), now, now + kExportLifetimeMs};
  auto updated = db_.execute(
      "UPDATE exports SET state = $2, ready_at = $3, expires_at = $4 WHERE id = $1", done);
  if (!ok || !updated || *updated == 0) {
    // It failed, or the account was cancelled while it was being built: nothing of it stays.
    if (keys_) keys_->destroy_export(user_id, e.id);
    remove_files(user_id, e.id);
    if (ok) return true;
  }
  if (ok && ready_) ready_(user_id);
  return true;
}

bool Exports::build(const ExportState& e, const std::string& user_id) {
  std::error_code ec;
  const auto dir = dir_of(user_id);
  std::filesystem::create_directories(dir, ec);
  const Value me[] = {user_id};
  const std::string owned = kOwned;
  // Each file: its name and the records in it.
  std::vector<std::pair<std::string, json>> files = {
      {"account.json",
       rows_json(db_,
                 "SELECT id, email, display_name, language, created_at, email_verified_at, status "
                 "FROM users WHERE id = $1",
                 me,
                 {"id", "email", "display_name", "language", "created_at_ms",
                  "email_verified_at_ms", "status"})},
      {"policy_acceptances.json",
       rows_json(db_,
                 "SELECT policy_version, accepted_at FROM policy_acceptances WHERE user_id = $1 "
                 "ORDER BY accepted_at",
                 me, {"policy_version", "accepted_at_ms"})},
      {"consents.json", rows_json(db_,
                                  "SELECT purpose, granted, at_ms, policy_version, method FROM "
                                  "consents WHERE user_id = $1 ORDER BY seq",
                                  me, {"purpose", "granted", "at_ms", "policy_version", "method"})},
      {"cameras.json",
       rows_json(db_,
                 "SELECT id, serial, model, firmware, name, binding_generation FROM devices "
                 "WHERE owner_id = $1 ORDER BY serial",
                 me, {"id", "serial", "model", "firmware", "name", "binding"})},
      {"shared_with_me.json",
       rows_json(db_,
                 "SELECT s.device_id, COALESCE(d.name, ''), s.role, s.state, s.created_at, "
                 "s.decided_at FROM device_shares s LEFT JOIN devices d ON d.id = s.device_id "
                 "WHERE s.user_id = $1 ORDER BY s.created_at",
                 me,
                 {"device_id", "device_name", "role", "state", "created_at_ms", "decided_at_ms"})},
      {"shares_i_made.json",
       rows_json(db_,
                 "SELECT id, device_id, email, role, state, created_at, decided_at FROM "
                 "device_shares WHERE invited_by = $1 ORDER BY created_at",
                 me,
                 {"id", "device_id", "email", "role", "state", "created_at_ms", "decided_at_ms"})},
      {"events.json", rows_json(db_,
                                "SELECT id, device_id, kind, start_ms, end_ms, zones FROM events "
                                "WHERE device_id IN " +
                                    owned + " ORDER BY start_ms, id",
                                me, {"id", "device_id", "kind", "start_ms", "end_ms", "zones"})},
      {"notification_settings.json",
       rows_json(db_,
                 "SELECT mode, kinds, quiet_hours, cooldown_s FROM notify_settings WHERE "
                 "user_id = $1",
                 me, {"mode", "kinds", "quiet_hours", "cooldown_s"})},
      {"notification_cameras.json",
       rows_json(db_,
                 "SELECT device_id, home, away, snooze_until_ms FROM notify_cameras WHERE "
                 "user_id = $1",
                 me, {"device_id", "home", "away", "snooze_until_ms"})},
      {"webhooks.json", rows_json(db_,
                                  "SELECT id, url, created_at FROM webhooks WHERE user_id = $1 "
                                  "ORDER BY created_at",
                                  me, {"id", "url", "created_at_ms"})},
      {"push_subscriptions.json",
       rows_json(db_, "SELECT id, endpoint, created_at FROM push_subscriptions WHERE user_id = $1",
                 me, {"id", "endpoint", "created_at_ms"})},
      {"talk_calls.json",
       rows_json(db_,
                 "SELECT c.device_id, c.start_ms, c.duration_ms, COALESCE(u.email, '') FROM "
                 "talk_calls c LEFT JOIN users u ON u.id = c.user_id WHERE c.user_id = $1 OR "
                 "c.device_id IN " +
                     owned + " ORDER BY c.start_ms",
                 me, {"device_id", "start_ms", "duration_ms", "caller"})},
      {"access_log.json",
       rows_json(db_,
                 "SELECT a.seq, a.at_ms, a.kind, a.device_id, a.actor, a.session, a.detail FROM "
                 "audit_log a WHERE (a.device_id IN " +
                     owned +
                     " AND a.generation = (SELECT binding_generation FROM devices WHERE id = "
                     "a.device_id)) OR a.actor = (SELECT 'u:' || pseudonym FROM "
                     "audit_pseudonyms WHERE user_id = $1) ORDER BY a.seq",
                 me, {"seq", "at_ms", "kind", "device_id", "actor", "session", "detail"})},
      {"privacy_requests.json",
       rows_json(db_,
                 "SELECT id, kind, body, created_at, due_at, status, answer, answered_at FROM "
                 "privacy_requests WHERE user_id = $1 ORDER BY created_at",
                 me,
                 {"id", "kind", "text", "created_at_ms", "due_at_ms", "status", "answer",
                  "answered_at_ms"})},
  };
  auto pictures = db_.query(
      "SELECT device_id, id FROM events WHERE snapshot_bytes IS NOT NULL "
      "AND device_id IN " +
          owned + " ORDER BY start_ms, id",
      me);
  // The recordings of their cameras, when asked for: each segment a plain MP4.
  std::vector<RecordingFile> videos;
  if (e.with_recordings && recordings_) {
    if (auto devices = db_.query("SELECT id FROM devices WHERE owner_id = $1", me)) {
      for (const auto& d : *devices) {
        auto more = recordings_(d.text(0));
        std::move(more.begin(), more.end(), std::back_inserter(videos));
      }
    }
  }
  const int64_t total = static_cast<int64_t>(files.size()) +
                        (pictures ? static_cast<int64_t>(pictures->size()) : 0) +
                        static_cast<int64_t>(videos.size());
  set_progress(e.id, 0, total);
  const auto tmp = dir / (e.id + ".zip.tmp");
  // Sealed as it is written: the archive is never on disk in the clear.
  std::optional<keys::SealedFileWriter> sealed;
  if (keys_) {
    auto key = keys_->export_key(user_id, e.id, true);
    if (!key) {
      spdlog::error("export.failed id={} reason=\"no key\"", e.id);
      return false;
    }
    sealed.emplace(tmp, *key, export_context(e.id));
  }
  ZipWriter zip = sealed ? ZipWriter([&sealed](std::string_view bytes) {
    return sealed->write(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  })
                         : ZipWriter(tmp);
  const int64_t now = clock_.now_ms();
  bool ok = zip.add("README.txt",
                    "Your data from Nightjar, as it was when this file was made. Each .json "
                    "file holds one kind of record; times are Unix milliseconds (UTC). "
                    "pictures/ holds your cameras' event pictures, and recordings/ (when "
                    "you asked for them) what your cameras recorded, one MP4 file each.\n",
                    now);
  int64_t done = 0;
  for (const auto& [name, records] : files) {
    ok = ok && zip.add(name, records.dump(2) + "\n", now);
    set_progress(e.id, ++done, total);
  }
  if (pictures) {
    for (const auto& r : *pictures) {
      if (!picture_) break;
      if (auto jpeg = picture_(r.text(0), r.text(1))) {
        ok = ok && zip.add("pictures/" + r.text(0) + "/" + r.text(1) + ".jpg", *jpeg, now);
      } else if (jpeg.error() == recording::Unreadable::kUnavailable) {
        // Not left out unsaid: the export fails, and the person asks again.
        spdlog::warn("export.picture_unavailable id={} device={}", e.id, r.text(0));
        ok = false;
      }
      if (++done % 20 == 0) set_progress(e.id, done, total);
    }
  }
  for (const auto& v : videos) {
    // A recording the reaper took meanwhile is left out; the rest of the export stands.
    if (ok && !zip.add_streamed(v.name, v.size, v.read, now)) {
      ok = zip.good();
      if (ok) spdlog::warn("export.recording_skipped id={} name={}", e.id, v.name);
    }
    set_progress(e.id, ++done, total);
  }
  set_progress(e.id, done, total);
  ok = zip.finish() && ok;
  if (sealed) ok = sealed->close() && ok;
  if (ok) std::filesystem::rename(tmp, dir / (e.id + ".zip"), ec);
  if (!ok || ec) {
    std::filesystem::remove(tmp, ec);
    spdlog::error("export.failed id={}", e.id);
    return false;
  }
  if (auto* store = store_of(user_id)) {
    // Into the bucket, piece by piece, then out of the node's directory.
    const auto file = dir / (e.id + ".zip");
    const auto key = object_key(user_id, e.id);
    (void)store->remove(key);
    std::ifstream in(file, std::ios::binary);
    std::vector<uint8_t> piece(8 << 20);
    bool uploaded = static_cast<bool>(in);
    while (uploaded && in) {
      in.read(reinterpret_cast<char*>(piece.data()), static_cast<std::streamsize>(piece.size()));
      const auto n = static_cast<size_t>(in.gcount());
      if (n == 0) break;
      uploaded = store->append(key, std::span<const uint8_t>(piece.data(), n), false).has_value();
    }
    uploaded = uploaded && in.eof();
    store->close(key);
    std::filesystem::remove(file, ec);
    if (!uploaded) {
      (void)store->remove(key);
      spdlog::error("export.failed id={} reason=\"upload\"", e.id);
      return false;
    }
  }
  spdlog::info("export.ready id={} records={} pictures={}", e.id, files.size(),
               pictures ? pictures->size() : 0);
  return true;
}

void Exports::expire() {
  const Value p[] = {clock_.now_ms()};
  auto rows =
      db_.query("SELECT id, user_id FROM exports WHERE state = 'ready' AND expires_at <= $1", p);
  if (!rows) return;
  for (const auto& r : *rows) {
    // The key first: a copy of the file made while it lasted no longer opens.
    if (keys_) keys_->destroy_export(r.text(1), r.text(0));
    remove_files(r.text(1), r.text(0));
    const Value id[] = {r.text(0)};
    (void)db_.execute("UPDATE exports SET state = 'expired' WHERE id = $1", id);
  }
}

void Exports::remove_files(std::string_view user_id, const std::string& id) {
  if (auto* store = store_of(user_id)) (void)store->remove(object_key(user_id, id));
  std::error_code ec;
  std::filesystem::remove(dir_of(user_id) / (id + ".zip"), ec);
}

void Exports::forget_user(std::string_view user_id) {
  const Value p[] = {std::string(user_id)};
  if (auto rows = db_.query("SELECT id FROM exports WHERE user_id = $1", p)) {
    for (const auto& r : *rows) {
      std::error_code ec;
      if (keys_) keys_->destroy_export(user_id, r.text(0));
      remove_files(user_id, r.text(0));
      std::filesystem::remove(dir_of(user_id) / (r.text(0) + ".zip.tmp"), ec);
    }
  }
  (void)db_.execute("DELETE FROM exports WHERE user_id = $1", p);
}

}  // namespace nj::privacy
