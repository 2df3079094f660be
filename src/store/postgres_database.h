// PostgreSQL implementation of store::Database (issue #17), on libpq: a pool of connections
// (each with its own prepared statements, cached by SQL text), transactions on one borrowed
// connection, and errors classified by SQLSTATE. The SQL the services write ($N parameters,
// portable types) runs as it is; the few dialect differences of the migrations are rewritten
// in one place (postgres_dialect).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "store/database.h"

namespace nj::store {

struct PostgresOptions {
  size_t pool_size = 8;  // connections, opened at start
};

// Opens a pool on `url` ("postgresql://user@host:port/db?…", any libpq connection string).
StoreResult<std::unique_ptr<Database>> open_postgres(const std::string& url,
                                                     const PostgresOptions& options = {});

// A migration script as PostgreSQL takes it: SQLite's rowid key (INTEGER PRIMARY KEY) becomes
// an identity column, INTEGER a 64-bit BIGINT (as SQLite's is), BLOB becomes BYTEA, REAL a
// double.
std::string postgres_dialect(std::string_view sql);

}  // namespace nj::store
