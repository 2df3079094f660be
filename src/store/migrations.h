// Numbered schema migrations, applied in order at start; schema_version records each one.
#pragma once

#include <span>
#include <string_view>

#include "store/database.h"

namespace nj::store {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// The migrations shipped in this binary (src/store/migrations/NNNN_name.sql).
std::span<const Migration> builtin_migrations();

// Applies every migration newer than the database's version, each in its own transaction.
// Refuses a database whose version is newer than the newest migration known here.
// Returns the schema version after migrating.
StoreResult<int> migrate(Database& db, std::span<const Migration> migrations);

// The applied version (0 for an empty database).
StoreResult<int> schema_version(Database& db);

}  // namespace nj::store
