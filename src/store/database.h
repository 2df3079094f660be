// The storage seam: a small SQL interface that SQLite implements now and PostgreSQL later.
// SQL passed in uses PostgreSQL-style positional parameters ($1, $2, …) and portable types,
// so domain services write one query for both engines.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"

namespace nj::store {

enum class Errc {
  kOpen,         // the database could not be opened or configured
  kSql,          // the statement is invalid (a programming error, logged loudly)
  kConstraint,   // a UNIQUE, FOREIGN KEY, NOT NULL or CHECK constraint refused the change
  kBusy,         // locked by another writer for longer than the busy timeout
  kIo,           // disk full, read-only, corrupt
  kMigration,    // schema migration failed or the database is newer than this binary
  kUnavailable,  // the database cannot be reached now (a lost connection, a restart): retry
};
std::string_view errc_name(Errc code);

using StoreError = Error<Errc>;
template <class T>
using StoreResult = Result<T, StoreError>;

using Blob = std::vector<uint8_t>;
using Value = std::variant<std::nullptr_t, int64_t, double, std::string, Blob>;

struct Row {
  std::vector<Value> values;

  bool is_null(size_t i) const { return std::holds_alternative<std::nullptr_t>(values.at(i)); }
  int64_t integer(size_t i) const;   // 0 for NULL
  double real(size_t i) const;       // 0 for NULL
  std::string text(size_t i) const;  // "" for NULL
  std::optional<std::string> optional_text(size_t i) const;
};
using Rows = std::vector<Row>;

class Database {
 public:
  virtual ~Database() = default;

  // Runs one statement; returns the number of rows changed.
  virtual StoreResult<int64_t> execute(std::string_view sql,
                                       std::span<const Value> params = {}) = 0;
  // Runs one statement and returns every row.
  virtual StoreResult<Rows> query(std::string_view sql, std::span<const Value> params = {}) = 0;
  // Runs several statements without parameters (migrations).
  virtual StoreResult<void> execute_script(std::string_view sql) = 0;
  // Runs body inside one transaction: committed if it succeeds, rolled back otherwise.
  // Other callers wait until it ends.
  virtual StoreResult<void> transaction(
      const std::function<StoreResult<void>(Database&)>& body) = 0;
  // "sqlite" or "postgres": for the rare statement that must differ.
  virtual std::string_view dialect() const = 0;
};

// The database's own clock as Unix milliseconds, as an SQL expression of the dialect: for
// what several nodes must judge alike (heartbeats, leases) whatever their own clocks say.
std::string_view now_ms_sql(std::string_view dialect);

}  // namespace nj::store
