// store::Database on PostgreSQL (issue #17, first step): the behaviours the SQLite tests
// check, on a real throwaway PostgreSQL 15 cluster started by the test, and every numbered
// migration applied as the server applies them.
#include "store/postgres_database.h"

#include <gtest/gtest.h>

#include <thread>

#include "store/migrations.h"
#include "store/test_postgres.h"

namespace nj::store {
namespace {

testing::TempPostgres& cluster() {
  static testing::TempPostgres pg;
  return pg;
}

std::unique_ptr<Database> open_fresh(const std::string& name) {
  auto& pg = cluster();
  EXPECT_FALSE(pg.url().empty()) << pg.error();
  auto db = open_postgres(pg.database(name), {.pool_size = 4});
  EXPECT_TRUE(db) << db.error().message;
  return db ? std::move(db).value() : nullptr;
}

TEST(Postgres, ExecuteAndQueryWithPositionalParameters) {
  auto db = open_fresh("positional");
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->execute_script("CREATE TABLE t (a BIGINT, b TEXT, c REAL, d BLOB)"));
  const Value row[] = {int64_t{7}, std::string("seven"), 7.5, Blob{0, 1, 2, 0xff}};
  auto changed = db->execute("INSERT INTO t (a, b, c, d) VALUES ($1, $2, $3, $4)", row);
  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_EQ(*changed, 1);
  const Value params[] = {int64_t{7}, std::string("seven")};
  auto rows = db->query("SELECT a, b, c, d, NULL FROM t WHERE b = $2 AND a = $1", params);
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 1u);
  const auto& r = rows->front();
  EXPECT_EQ(r.integer(0), 7);
  EXPECT_EQ(r.text(1), "seven");
  EXPECT_DOUBLE_EQ(r.real(2), 7.5);
  EXPECT_EQ(std::get<Blob>(r.values[3]), (Blob{0, 1, 2, 0xff}));
  EXPECT_TRUE(r.is_null(4));
  EXPECT_EQ(db->query("SELECT COUNT(*), COALESCE(SUM(a), 0) FROM t")->at(0).integer(1), 7);
  // Empty is not NULL: an empty blob and an empty text stay empty.
  const Value empty[] = {int64_t{8}, std::string(), 0.0, Blob{}};
  ASSERT_TRUE(db->execute("INSERT INTO t (a, b, c, d) VALUES ($1, $2, $3, $4)", empty));
  const auto back = db->query("SELECT b, d FROM t WHERE a = 8")->at(0);
  EXPECT_FALSE(back.is_null(0));
  EXPECT_FALSE(back.is_null(1));
  EXPECT_TRUE(std::get<Blob>(back.values[1]).empty());
  EXPECT_EQ(db->dialect(), "postgres");
}

TEST(Postgres, ErrorsAreClassified) {
  auto db = open_fresh("errors");
  ASSERT_TRUE(db);
  auto bad = db->query("SELEC nonsense");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kSql);
  ASSERT_TRUE(db->execute_script("CREATE TABLE u (k TEXT PRIMARY KEY)"));
  const Value k[] = {std::string("x")};
  ASSERT_TRUE(db->execute("INSERT INTO u VALUES ($1)", k));
  auto dup = db->execute("INSERT INTO u VALUES ($1)", k);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Errc::kConstraint);
  auto wrong_arity = db->execute("INSERT INTO u VALUES ($1)", {});
  ASSERT_FALSE(wrong_arity);
  EXPECT_EQ(wrong_arity.error().code, Errc::kSql);
}

TEST(Postgres, TransactionRollsBackOnErrorAndNestsWithSavepoints) {
  auto db = open_fresh("transactions");
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->execute_script("CREATE TABLE t (a BIGINT)"));
  auto r = db->transaction([](Database& tx) -> StoreResult<void> {
    if (auto e = tx.execute("INSERT INTO t VALUES (1)"); !e) return Unexpected(e.error());
    return Unexpected(StoreError{Errc::kSql, "abort"});
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(db->query("SELECT COUNT(*) FROM t")->at(0).integer(0), 0);
  ASSERT_TRUE(db->transaction([](Database& tx) -> StoreResult<void> {
    if (auto e = tx.execute("INSERT INTO t VALUES (1)"); !e) return Unexpected(e.error());
    // An inner transaction that fails rolls back alone.
    (void)tx.transaction([](Database& inner) -> StoreResult<void> {
      (void)inner.execute("INSERT INTO t VALUES (2)");
      return Unexpected(StoreError{Errc::kSql, "inner abort"});
    });
    return {};
  }));
  EXPECT_EQ(db->query("SELECT COUNT(*) FROM t")->at(0).integer(0), 1);
}

TEST(Postgres, ConcurrentWritersShareThePool) {
  auto db = open_fresh("concurrent");
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->execute_script("CREATE TABLE t (a BIGINT)"));
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        const Value v[] = {int64_t{t * 1000 + i}};
        EXPECT_TRUE(db->execute("INSERT INTO t VALUES ($1)", v));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(db->query("SELECT COUNT(*) FROM t")->at(0).integer(0), 800);
}

// Every numbered migration runs on PostgreSQL as it is (with postgres_dialect's rewrites),
// and a second run changes nothing.
TEST(Postgres, EveryMigrationApplies) {
  auto db = open_fresh("migrations");
  ASSERT_TRUE(db);
  const auto all = builtin_migrations();
  auto v = migrate(*db, all);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(*v, all.back().version);
  EXPECT_EQ(*migrate(*db, all), all.back().version);
  // The identity column hands out ids as SQLite's rowid did.
  ASSERT_TRUE(db->execute(
      "INSERT INTO devices (id, serial, secret_hash, created_at) VALUES ('d', 'S', 'x', 0)"));
  const Value seg[] = {std::string("d"), store::Blob{1, 2, 3}};
  auto id = db->query(
      "INSERT INTO recording_segments (device_id, region, store_key, run_id, start_ms, end_ms, "
      "start_ticks, init_size, bytes, fragments) VALUES ($1, 'default', 'k', 'r', 0, 0, 0, 0, 0, "
      "$2) RETURNING id",
      seg);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_GE(id->at(0).integer(0), 1);
}

TEST(Postgres, OpenFailsClearlyWithoutAServer) {
  auto db = open_postgres("postgresql://nj@127.0.0.1:1/postgres?connect_timeout=2");
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code, Errc::kOpen);
}

TEST(Postgres, TheDialectRewritesOnlyTypes) {
  EXPECT_EQ(postgres_dialect("CREATE TABLE s (id INTEGER PRIMARY KEY, b BLOB, r REAL, t TEXT)"),
            "CREATE TABLE s (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, b BYTEA, r "
            "DOUBLE PRECISION, t TEXT)");
  EXPECT_EQ(postgres_dialect("SELECT realm, blobs FROM x"), "SELECT realm, blobs FROM x");
}

}  // namespace
}  // namespace nj::store
