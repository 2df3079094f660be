#include "store/transfer.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>
#include <set>

#include "store/migrations.h"

namespace nj::store {
namespace {

constexpr std::string_view kVersionTable = "schema_version";

std::string quoted(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

StoreError failure(Errc code, std::string message) { return StoreError{code, std::move(message)}; }

// The database's tables, by name.
StoreResult<std::vector<std::string>> tables_of(Database& db) {
  auto rows = db.dialect() == "postgres"
                  ? db.query(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                        "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name")
                  : db.query(
                        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                        "'sqlite\\_%' ESCAPE '\\' ORDER BY name");
  if (!rows) return Unexpected(rows.error());
  std::vector<std::string> out;
  for (const auto& r : *rows) out.push_back(r.text(0));
  return out;
}

// A table's columns, by name (so both engines list them alike).
StoreResult<std::vector<std::string>> columns_of(Database& db, const std::string& table) {
  const Value p[] = {table};
  auto rows = db.dialect() == "postgres"
                  ? db.query(
                        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                        "current_schema() AND table_name = $1 ORDER BY column_name",
                        p)
                  : db.query("SELECT name FROM pragma_table_info($1) ORDER BY name", p);
  if (!rows) return Unexpected(rows.error());
  std::vector<std::string> out;
  for (const auto& r : *rows) out.push_back(r.text(0));
  return out;
}

std::string column_list(const std::vector<std::string>& columns) {
  std::string out;
  for (const auto& c : columns) out += (out.empty() ? "" : ", ") + quoted(c);
  return out;
}

// FNV-1a over each value with its type: 7 and '7' differ, as do NULL and ''.
uint64_t row_hash(const Row& row) {
  uint64_t h = 0xcbf29ce484222325ull;
  const auto mix = [&](const void* data, size_t size) {
    const auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < size; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  };
  const auto tagged = [&](char tag, const void* data, size_t size) {
    const uint64_t length = size;
    mix(&tag, 1);
    mix(&length, sizeof length);
    mix(data, size);
  };
  for (const auto& v : row.values) {
    if (const auto* i = std::get_if<int64_t>(&v)) {
      tagged('i', i, sizeof *i);
    } else if (const auto* d = std::get_if<double>(&v)) {
      const uint64_t bits = std::bit_cast<uint64_t>(*d);
      tagged('r', &bits, sizeof bits);
    } else if (const auto* s = std::get_if<std::string>(&v)) {
      tagged('t', s->data(), s->size());
    } else if (const auto* b = std::get_if<Blob>(&v)) {
      tagged('b', b->data(), b->size());
    } else {
      tagged('n', nullptr, 0);
    }
  }
  return h;
}

StoreResult<TableSummary> summarize_table(Database& db, const std::string& table) {
  auto columns = columns_of(db, table);
  if (!columns) return Unexpected(columns.error());
  auto rows = db.query("SELECT " + column_list(*columns) + " FROM " + quoted(table));
  if (!rows) return Unexpected(rows.error());
  TableSummary out{table, static_cast<int64_t>(rows->size()), 0};
  for (const auto& r : *rows) out.checksum += row_hash(r);
  return out;
}

// The tables in an order where each comes after those its foreign keys name (SQLite's
// catalogue); the schema version table is left out: each side keeps its own.
StoreResult<std::vector<std::string>> copy_order(Database& sqlite) {
  auto tables = tables_of(sqlite);
  if (!tables) return Unexpected(tables.error());
  std::map<std::string, std::set<std::string>> needs;
  for (const auto& t : *tables) {
    if (t == kVersionTable) continue;
    const Value p[] = {t};
    auto refs = sqlite.query("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list($1)", p);
    if (!refs) return Unexpected(refs.error());
    auto& n = needs[t];
    for (const auto& r : *refs) {
      if (r.text(0) != t) n.insert(r.text(0));  // a row naming its own table: rowid order
    }
  }
  std::vector<std::string> order;
  std::set<std::string> placed;
  while (order.size() < needs.size()) {
    bool progressed = false;
    for (const auto& [t, n] : needs) {
      if (placed.contains(t)) continue;
      if (std::all_of(n.begin(), n.end(), [&](const auto& x) { return placed.contains(x); })) {
        order.push_back(t);
        placed.insert(t);
        progressed = true;
      }
    }
    if (!progressed) return Unexpected(failure(Errc::kMigration, "foreign keys form a cycle"));
  }
  return order;
}

StoreResult<void> copy_table(Database& from, Database& tx, const std::string& table) {
  auto columns = columns_of(from, table);
  if (!columns) return Unexpected(columns.error());
  auto rows =
      from.query("SELECT " + column_list(*columns) + " FROM " + quoted(table) + " ORDER BY rowid");
  if (!rows) return Unexpected(rows.error());
  const size_t width = columns->size();
  // Many rows a statement (PostgreSQL takes up to 65,535 parameters), a few statement shapes.
  const size_t batch = std::max<size_t>(1, std::min<size_t>(256, 60'000 / width));
  const std::string head =
      "INSERT INTO " + quoted(table) + " (" + column_list(*columns) + ") VALUES ";
  std::vector<Value> params;
  for (size_t start = 0; start < rows->size(); start += batch) {
    const size_t n = std::min(batch, rows->size() - start);
    std::string sql = head;
    params.clear();
    for (size_t i = 0; i < n; ++i) {
      sql += i ? ", (" : "(";
      for (size_t c = 0; c < width; ++c) {
        params.push_back((*rows)[start + i].values[c]);
        sql += (c ? ", $" : "$") + std::to_string(params.size());
      }
      sql += ")";
    }
    if (auto done = tx.execute(sql, params); !done) {
      return Unexpected(failure(done.error().code, table + ": " + done.error().message));
    }
  }
  // Identity columns continue after the highest id copied.
  const Value p[] = {table};
  auto identities = tx.query(
      "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
      "AND table_name = $1 AND is_identity = 'YES'",
      p);
  if (!identities) return Unexpected(identities.error());
  for (const auto& r : *identities) {
    const std::string column = quoted(r.text(0));
    const Value q[] = {quoted(table), r.text(0)};
    auto moved = tx.query("SELECT setval(pg_get_serial_sequence($1, $2), (SELECT COALESCE(MAX(" +
                              column + "), 0) + 1 FROM " + quoted(table) + "), false)",
                          q);
    if (!moved) return Unexpected(moved.error());
  }
  return {};
}

}  // namespace

StoreResult<std::vector<TableSummary>> summarize(Database& db) {
  auto tables = tables_of(db);
  if (!tables) return Unexpected(tables.error());
  std::vector<TableSummary> out;
  for (const auto& t : *tables) {
    auto s = summarize_table(db, t);
    if (!s) return Unexpected(s.error());
    out.push_back(std::move(*s));
  }
  return out;
}

StoreResult<std::vector<TableSummary>> copy_to_postgres(Database& from, Database& to) {
  if (from.dialect() != "sqlite" || to.dialect() != "postgres") {
    return Unexpected(failure(Errc::kOpen, "copies from SQLite to PostgreSQL only"));
  }
  auto source_version = migrate(from, builtin_migrations());
  if (!source_version) return Unexpected(source_version.error());
  auto target_version = migrate(to, builtin_migrations());
  if (!target_version) return Unexpected(target_version.error());
  if (*source_version != *target_version) {
    return Unexpected(failure(Errc::kMigration, "schema versions differ"));
  }
  auto order = copy_order(from);
  if (!order) return Unexpected(order.error());
  for (const auto& t : *order) {
    auto rows = to.query("SELECT 1 FROM " + quoted(t) + " LIMIT 1");
    if (!rows) return Unexpected(failure(rows.error().code, t + ": " + rows.error().message));
    if (!rows->empty()) {
      return Unexpected(failure(Errc::kConstraint, "the target is not empty: " + t + " has rows"));
    }
  }
  auto copied = to.transaction([&](Database& tx) -> StoreResult<void> {
    for (const auto& t : *order) {
      if (auto done = copy_table(from, tx, t); !done) return done;
    }
    return {};
  });
  if (!copied) return Unexpected(copied.error());
  // Read back on both sides, table by table.
  std::vector<TableSummary> out;
  for (const auto& t : *order) {
    auto a = summarize_table(from, t);
    if (!a) return Unexpected(a.error());
    auto b = summarize_table(to, t);
    if (!b) return Unexpected(b.error());
    if (a->rows != b->rows) {
      return Unexpected(failure(Errc::kMigration, t + ": " + std::to_string(a->rows) +
                                                      " rows here, " + std::to_string(b->rows) +
                                                      " there"));
    }
    if (a->checksum != b->checksum) {
      return Unexpected(failure(Errc::kMigration, t + ": the rows differ after the copy"));
    }
    out.push_back(std::move(*a));
  }
  return out;
}

}  // namespace nj::store
