#include "store/sqlite_database.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

namespace nj::store {
namespace {

std::unique_ptr<Database> open_memory() {
  auto db = open_sqlite(":memory:");
  EXPECT_TRUE(db) << db.error().message;
  return std::move(db).value();
}

TEST(Sqlite, ExecuteAndQueryWithPositionalParameters) {
  auto db = open_memory();
  ASSERT_TRUE(db->execute_script("CREATE TABLE t (a INTEGER, b TEXT, c REAL, d BLOB)"));
  const Value row[] = {int64_t{7}, std::string("seven"), 7.5, Blob{0, 1, 2}};
  auto changed = db->execute("INSERT INTO t (a, b, c, d) VALUES ($1, $2, $3, $4)", row);
  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_EQ(*changed, 1);
  // Parameters may appear out of order: $2 before $1.
  const Value params[] = {int64_t{7}, std::string("seven")};
  auto rows = db->query("SELECT a, b, c, d, NULL FROM t WHERE b = $2 AND a = $1", params);
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 1u);
  const auto& r = rows->front();
  EXPECT_EQ(r.integer(0), 7);
  EXPECT_EQ(r.text(1), "seven");
  EXPECT_DOUBLE_EQ(r.real(2), 7.5);
  EXPECT_EQ(std::get<Blob>(r.values[3]), (Blob{0, 1, 2}));
  EXPECT_TRUE(r.is_null(4));
  EXPECT_FALSE(r.optional_text(4).has_value());
}

TEST(Sqlite, ErrorsAreClassified) {
  auto db = open_memory();
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

TEST(Sqlite, TransactionRollsBackOnError) {
  auto db = open_memory();
  ASSERT_TRUE(db->execute_script("CREATE TABLE t (a INTEGER)"));
  auto r = db->transaction([](Database& tx) -> StoreResult<void> {
    if (auto e = tx.execute("INSERT INTO t VALUES (1)"); !e) return Unexpected(e.error());
    return Unexpected(StoreError{Errc::kSql, "abort"});
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(db->query("SELECT COUNT(*) FROM t")->at(0).integer(0), 0);
  ASSERT_TRUE(db->transaction([](Database& tx) -> StoreResult<void> {
    if (auto e = tx.execute("INSERT INTO t VALUES (1)"); !e) return Unexpected(e.error());
    return {};
  }));
  EXPECT_EQ(db->query("SELECT COUNT(*) FROM t")->at(0).integer(0), 1);
}

TEST(Sqlite, FileDatabaseUsesWalAndSurvivesReopen) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("nj-sqlite-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    auto db = open_sqlite(dir / "t.db");
    ASSERT_TRUE(db);
    EXPECT_EQ((*db)->query("PRAGMA journal_mode")->at(0).text(0), "wal");
    ASSERT_TRUE((*db)->execute_script("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (42);"));
  }
  {
    auto db = open_sqlite(dir / "t.db");
    ASSERT_TRUE(db);
    EXPECT_EQ((*db)->query("SELECT a FROM t")->at(0).integer(0), 42);
  }
  std::filesystem::remove_all(dir);
}

TEST(Sqlite, ConcurrentWritersFromManyThreads) {
  auto db = open_memory();
  ASSERT_TRUE(db->execute_script("CREATE TABLE t (a INTEGER)"));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const Value v[] = {int64_t{t * 1000 + i}};
        EXPECT_TRUE(db->execute("INSERT INTO t VALUES ($1)", v));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(db->query("SELECT COUNT(*) FROM t")->at(0).integer(0), 800);
}

TEST(Sqlite, OpenFailsClearlyForUnwritablePath) {
  auto db = open_sqlite("/nonexistent-dir/x/y.db");
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code, Errc::kOpen);
}

}  // namespace
}  // namespace nj::store
