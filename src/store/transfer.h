// Moving an embedded install's database onto PostgreSQL (issue #17: `nightjar admin
// migrate-to-postgres`). The target gets the same numbered migrations, then every table's rows
// in foreign-key order, in one transaction; identity columns continue after the highest id
// copied. Then both sides are read back and compared table by table: row counts and an
// order-independent checksum of every row's values, so a row lost, changed or added shows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/database.h"

namespace nj::store {

struct TableSummary {
  std::string table;
  int64_t rows = 0;
  uint64_t checksum = 0;  // the sum of a 64-bit hash of each row's values, so order is free
  bool operator==(const TableSummary&) const = default;
};

// Every table of a database (the schema version table included), by name, with its rows'
// count and checksum. A text and an integer that read the same are different values.
StoreResult<std::vector<TableSummary>> summarize(Database& db);

// Copies the SQLite database `from` (migrated to this binary's newest version first) into the
// PostgreSQL database `to`, which must hold no rows yet; then compares the two. Returns the
// summary of what was copied; an error says which table or check failed (and nothing of the
// copy stays in `to` if the copy failed: it is one transaction).
StoreResult<std::vector<TableSummary>> copy_to_postgres(Database& from, Database& to);

}  // namespace nj::store
