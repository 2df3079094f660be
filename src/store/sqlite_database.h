// SQLite implementation of store::Database: one connection in WAL mode, shared by the
// process behind a mutex, with prepared statements cached by their SQL text.
#pragma once

#include <filesystem>
#include <memory>

#include "store/database.h"

namespace nj::store {

struct SqliteOptions {
  int busy_timeout_ms = 5000;
  size_t statement_cache_size = 128;
};

// Opens (creating if needed) the database at path; ":memory:" for a private in-memory one.
StoreResult<std::unique_ptr<Database>> open_sqlite(const std::filesystem::path& path,
                                                   const SqliteOptions& options = {});

}  // namespace nj::store
