#include "store/migrations.h"

#include <chrono>
#include <string>

#include "common/time.h"

namespace nj::store {
namespace {

constexpr std::string_view kCreateVersionTable =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at TEXT NOT NULL)";

}  // namespace

StoreResult<int> schema_version(Database& db) {
  if (auto r = db.execute(kCreateVersionTable); !r) return Unexpected(std::move(r).error());
  auto rows = db.query("SELECT COALESCE(MAX(version), 0) FROM schema_version");
  if (!rows) return Unexpected(std::move(rows).error());
  return static_cast<int>(rows->at(0).integer(0));
}

StoreResult<int> migrate(Database& db, std::span<const Migration> migrations) {
  auto current = schema_version(db);
  if (!current) return current;
  int version = *current;
  int newest = 0;
  for (const auto& m : migrations) {
    if (m.version <= newest) {
      return Unexpected(StoreError{Errc::kMigration, "migrations are not in increasing order at " +
                                                         std::to_string(m.version)});
    }
    newest = m.version;
  }
  if (version > newest) {
    return Unexpected(
        StoreError{Errc::kMigration, "database schema version " + std::to_string(version) +
                                         " is newer than this build knows (" +
                                         std::to_string(newest) + "); run a newer nightjar"});
  }
  for (const auto& m : migrations) {
    if (m.version <= version) continue;
    auto applied = db.transaction([&](Database& tx) -> StoreResult<void> {
      if (auto r = tx.execute_script(m.sql); !r) return r;
      const auto now = format_rfc3339(std::chrono::time_point_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now()));
      const Value params[] = {int64_t{m.version}, std::string(m.name), now};
      if (auto r = tx.execute(
              "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)", params);
          !r) {
        return Unexpected(std::move(r).error());
      }
      return {};
    });
    if (!applied) {
      return Unexpected(StoreError{Errc::kMigration, "migration " + std::to_string(m.version) +
                                                         "_" + std::string(m.name) +
                                                         " failed: " + applied.error().message});
    }
    version = m.version;
  }
  return version;
}

}  // namespace nj::store
