#include "store/sqlite_database.h"

#include <sqlite3.h>

#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace nj::store {
namespace {

Errc errc_for(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return Errc::kConstraint;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Errc::kBusy;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
      return Errc::kIo;
    default:
      return Errc::kSql;
  }
}

StoreError error_from(sqlite3* db, int rc) {
  return StoreError{errc_for(rc), db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)};
}

class Statement {
 public:
  explicit Statement(sqlite3_stmt* s) : stmt_(s) {}
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(sqlite3* db, SqliteOptions options) : db_(db), options_(options) {}
  ~SqliteDatabase() override {
    cache_.clear();
    lru_.clear();
    sqlite3_close_v2(db_);
  }

  StoreResult<int64_t> execute(std::string_view sql, std::span<const Value> params) override {
    std::lock_guard lock(mu_);
    auto stmt = prepare(sql);
    if (!stmt) return Unexpected(std::move(stmt).error());
    if (auto b = bind(*stmt, params); !b) return Unexpected(std::move(b).error());
    int rc;
    while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
    }
    sqlite3_reset(*stmt);
    if (rc != SQLITE_DONE) return Unexpected(error_from(db_, rc));
    return static_cast<int64_t>(sqlite3_changes64(db_));
  }

  StoreResult<Rows> query(std::string_view sql, std::span<const Value> params) override {
    std::lock_guard lock(mu_);
    auto stmt = prepare(sql);
    if (!stmt) return Unexpected(std::move(stmt).error());
    if (auto b = bind(*stmt, params); !b) return Unexpected(std::move(b).error());
    Rows rows;
    int rc;
    const int columns = sqlite3_column_count(*stmt);
    while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
      Row row;
      row.values.reserve(static_cast<size_t>(columns));
      for (int c = 0; c < columns; ++c) row.values.push_back(column(*stmt, c));
      rows.push_back(std::move(row));
    }
    sqlite3_reset(*stmt);
    if (rc != SQLITE_DONE) return Unexpected(error_from(db_, rc));
    return rows;
  }

  StoreResult<void> execute_script(std::string_view sql) override {
    std::lock_guard lock(mu_);
    const std::string text(sql);
    char* message = nullptr;
    const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
    if (rc != SQLITE_OK) {
      StoreError e{errc_for(rc), message ? message : sqlite3_errstr(rc)};
      sqlite3_free(message);
      return Unexpected(std::move(e));
    }
    return {};
  }

  StoreResult<void> transaction(const std::function<StoreResult<void>(Database&)>& body) override {
    std::lock_guard lock(mu_);  // recursive: body's calls re-enter on this thread
    if (auto r = execute("BEGIN IMMEDIATE", {}); !r) return Unexpected(std::move(r).error());
    auto result = body(*this);
    if (!result) {
      (void)execute("ROLLBACK", {});
      return result;
    }
    if (auto r = execute("COMMIT", {}); !r) {
      (void)execute("ROLLBACK", {});
      return Unexpected(std::move(r).error());
    }
    return {};
  }

  std::string_view dialect() const override { return "sqlite"; }

 private:
  // Returns a cached prepared statement for sql (least recently used ones are finalized).
  Result<sqlite3_stmt*, StoreError> prepare(std::string_view sql) {
    std::string key(sql);
    if (auto it = cache_.find(key); it != cache_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.second);
      return it->second.first->get();
    }
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()),
                                      SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    if (rc != SQLITE_OK) return Unexpected(error_from(db_, rc));
    if (raw == nullptr) return Unexpected(StoreError{Errc::kSql, "empty statement"});
    if (cache_.size() >= options_.statement_cache_size && !lru_.empty()) {
      cache_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.push_front(key);
    auto [it, _] = cache_.emplace(std::move(key),
                                  std::make_pair(std::make_unique<Statement>(raw), lru_.begin()));
    return it->second.first->get();
  }

  Result<void, StoreError> bind(sqlite3_stmt* stmt, std::span<const Value> params) {
    sqlite3_clear_bindings(stmt);
    const int expected = sqlite3_bind_parameter_count(stmt);
    if (static_cast<size_t>(expected) != params.size()) {
      return Unexpected(StoreError{Errc::kSql, "statement takes " + std::to_string(expected) +
                                                   " parameters, got " +
                                                   std::to_string(params.size())});
    }
    for (size_t i = 0; i < params.size(); ++i) {
      // $N names parameter N whatever order the SQL mentions them in.
      const std::string name = "$" + std::to_string(i + 1);
      int index = sqlite3_bind_parameter_index(stmt, name.c_str());
      if (index == 0) index = static_cast<int>(i + 1);  // plain "?" placeholders
      int rc = SQLITE_OK;
      const auto& v = params[i];
      if (std::holds_alternative<std::nullptr_t>(v)) {
        rc = sqlite3_bind_null(stmt, index);
      } else if (const auto* n = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, index, *n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, index, *d);
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text64(stmt, index, s->data(), s->size(), SQLITE_STATIC, SQLITE_UTF8);
      } else if (const auto* b = std::get_if<Blob>(&v)) {
        // An empty blob is a blob, not NULL (SQLite binds a null pointer as NULL).
        rc = b->empty() ? sqlite3_bind_zeroblob(stmt, index, 0)
                        : sqlite3_bind_blob64(stmt, index, b->data(), b->size(), SQLITE_STATIC);
      }
      if (rc != SQLITE_OK) return Unexpected(error_from(db_, rc));
    }
    return {};
  }

  static Value column(sqlite3_stmt* stmt, int c) {
    switch (sqlite3_column_type(stmt, c)) {
      case SQLITE_INTEGER:
        return int64_t{sqlite3_column_int64(stmt, c)};
      case SQLITE_FLOAT:
        return sqlite3_column_double(stmt, c);
      case SQLITE_TEXT: {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        return std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt, c)));
      }
      case SQLITE_BLOB: {
        const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt, c));
        return Blob(p, p + sqlite3_column_bytes(stmt, c));
      }
      default:
        return nullptr;
    }
  }

  sqlite3* db_;
  SqliteOptions options_;
  std::recursive_mutex mu_;
  std::list<std::string> lru_;
  std::unordered_map<std::string,
                     std::pair<std::unique_ptr<Statement>, std::list<std::string>::iterator>>
      cache_;
};

}  // namespace

StoreResult<std::unique_ptr<Database>> open_sqlite(const std::filesystem::path& path,
                                                   const SqliteOptions& options) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    StoreError e{Errc::kOpen, "cannot open " + path.string() + ": " +
                                  (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc))};
    sqlite3_close_v2(db);
    return Unexpected(std::move(e));
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  auto database = std::make_unique<SqliteDatabase>(db, options);
  // WAL: readers never block the writer; NORMAL sync is durable across process crashes and
  // loses at most the last transactions on power loss, which WAL keeps consistent.
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"}) {
    if (auto r = database->execute_script(pragma); !r) {
      return Unexpected(StoreError{Errc::kOpen, std::string(pragma) + ": " + r.error().message});
    }
  }
  return std::unique_ptr<Database>(std::move(database));
}

}  // namespace nj::store
