// store::Database on PostgreSQL (issue #17, first step): the behaviours the SQLite tests
// check, on a real throwaway PostgreSQL 15 cluster started by the test, and every numbered
// migration applied as the server applies them.
#include "store/postgres_database.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "store/change_feed.h"
#include "store/migrations.h"
#include "store/test_postgres.h"
#include "store/transfer.h"

namespace nj::store {
namespace {

std::unique_ptr<Database> open_fresh() {
  std::string error;
  const std::string url = testing::fresh_database_url(&error);
  EXPECT_FALSE(url.empty()) << error;
  if (url.empty()) return nullptr;
  auto db = open_postgres(url, {.pool_size = 4});
  EXPECT_TRUE(db) << db.error().message;
  return db ? std::move(db).value() : nullptr;
}

TEST(Postgres, ExecuteAndQueryWithPositionalParameters) {
  auto db = open_fresh();
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
  auto db = open_fresh();
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
  auto db = open_fresh();
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
  auto db = open_fresh();
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
  auto db = open_fresh();
  ASSERT_TRUE(db);
  const auto all = builtin_migrations();
  auto v = migrate(*db, all);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(*v, all.back().version);
  EXPECT_EQ(*migrate(*db, all), all.back().version);
  // No 32-bit integer column: SQLite's INTEGER holds 64 bits, and times in ms need them.
  auto narrow = db->query(
      "SELECT table_name || '.' || column_name FROM information_schema.columns WHERE "
      "table_schema = current_schema() AND data_type IN ('integer', 'smallint') AND "
      "table_name <> 'schema_version'");  // migration numbers
  ASSERT_TRUE(narrow);
  for (const auto& r : *narrow) ADD_FAILURE() << r.text(0) << " is narrower than in SQLite";
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

// `nightjar admin migrate-to-postgres`: every row of an embedded install arrives, with its
// types (a blob, a real, NULL and empty text), in foreign-key order; identity columns go on
// after the ids copied; the summaries of both sides match; a target with rows is refused.
TEST(Postgres, AnEmbeddedDatabaseMovesOverWholeAndIsChecked) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("nj-transfer-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto from = std::move(open_sqlite(dir / "nightjar.db")).value();
  ASSERT_TRUE(migrate(*from, builtin_migrations()));
  ASSERT_TRUE(from->execute(
      "INSERT INTO devices (id, serial, secret_hash, created_at) VALUES ('d', 'S', 'x', 0)"));
  for (int i = 0; i < 600; ++i) {  // more than one batch
    const Value seg[] = {std::string("k") + std::to_string(i),
                         Blob{static_cast<uint8_t>(i), 0, 0xff}};
    ASSERT_TRUE(from->execute(
        "INSERT INTO recording_segments (device_id, region, store_key, run_id, start_ms, "
        "end_ms, start_ticks, init_size, bytes, fragments) VALUES ('d', '', $1, 'r', 1, 2, 3, "
        "4, 5, $2)",
        seg));
  }
  ASSERT_TRUE(from->execute(
      "INSERT INTO users (id, email, password_hash, language, status, created_at) VALUES "
      "('u', 'a@example.org', 'h', 'en', 'active', 7)"));

  auto to = open_fresh();
  ASSERT_TRUE(to);
  auto copied = copy_to_postgres(*from, *to);
  ASSERT_TRUE(copied) << copied.error().message;
  int64_t segments = -1;
  for (const auto& t : *copied) {
    if (t.table == "recording_segments") segments = t.rows;
  }
  EXPECT_EQ(segments, 600);
  // Read back independently: the same tables, rows and checksums (the version table aside).
  auto a = summarize(*from);
  auto b = summarize(*to);
  ASSERT_TRUE(a && b);
  std::erase_if(*a, [](const auto& t) { return t.table == "schema_version"; });
  std::erase_if(*b, [](const auto& t) { return t.table == "schema_version"; });
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(to->query("SELECT email, email_verified_at, display_name FROM users")->at(0).text(0),
            "a@example.org");
  EXPECT_TRUE(to->query("SELECT email_verified_at FROM users")->at(0).is_null(0));
  // The next segment gets the next id, as it would have there.
  auto next = to->query(
      "INSERT INTO recording_segments (device_id, region, store_key, run_id, start_ms, end_ms, "
      "start_ticks, init_size, bytes, fragments) VALUES ('d', '', 'new', 'r', 0, 0, 0, 0, 0, "
      "'') RETURNING id");
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->at(0).integer(0), 601);
  // A changed value shows in the summary.
  ASSERT_TRUE(to->execute("UPDATE users SET created_at = 8"));
  EXPECT_NE(*summarize(*to), *summarize(*from));

  // Copying again into a database with rows is refused, and changes nothing.
  auto again = copy_to_postgres(*from, *to);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("not empty"), std::string::npos) << again.error().message;
  EXPECT_EQ(to->query("SELECT COUNT(*) FROM recording_segments")->at(0).integer(0), 601);

  // A value PostgreSQL cannot hold (SQLite keeps text in an integer column) fails the copy
  // with the table's name, and leaves the target as empty as it was.
  ASSERT_TRUE(from->execute("UPDATE users SET created_at = 'yesterday'"));
  auto empty = open_fresh();
  auto bad = copy_to_postgres(*from, *empty);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("users"), std::string::npos) << bad.error().message;
  EXPECT_EQ(empty->query("SELECT COUNT(*) FROM recording_segments")->at(0).integer(0), 0);
  std::filesystem::remove_all(dir);
}

// What one node hears of another's changes (LISTEN/NOTIFY): every feed on the database hears
// each change once, topic and payload intact, the sender's own feed too; a listener whose
// connection is cut reconnects by itself, says so (resync), and hears what follows.
class Heard {
 public:
  void add(std::string_view topic, std::string_view payload) {
    std::lock_guard lock(mu_);
    seen_.push_back(std::string(topic) + "|" + std::string(payload));
    cv_.notify_all();
  }
  bool wait_for(const std::string& what, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout,
                        [&] { return std::find(seen_.begin(), seen_.end(), what) != seen_.end(); });
  }
  size_t count(const std::string& what) {
    std::lock_guard lock(mu_);
    return static_cast<size_t>(std::count(seen_.begin(), seen_.end(), what));
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> seen_;
};

TEST(Postgres, ChangesReachEveryNodeAndTheFeedComesBackAfterALostConnection) {
  std::string error;
  const std::string url = testing::fresh_database_url(&error);
  ASSERT_FALSE(url.empty()) << error;
  Heard heard_a, heard_b;  // outlive the feeds, whose threads call into them
  std::atomic<int> resyncs{0};
  auto a = postgres_change_feed(url);
  auto b = postgres_change_feed(url);
  ASSERT_TRUE(a && b);
  (*a)->on_change([&](auto topic, auto payload) { heard_a.add(topic, payload); });
  (*b)->on_change([&](auto topic, auto payload) { heard_b.add(topic, payload); });
  (*b)->on_resync([&] { ++resyncs; });
  ASSERT_TRUE((*a)->publish("share.ended", "CAM-1 user-7"));
  EXPECT_TRUE(heard_b.wait_for("share.ended|CAM-1 user-7", std::chrono::seconds(5)));
  EXPECT_TRUE(heard_a.wait_for("share.ended|CAM-1 user-7", std::chrono::seconds(5)));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(heard_b.count("share.ended|CAM-1 user-7"), 1u);

  // Every listening connection is cut, as a database restart would.
  auto admin = open_postgres(url, {.pool_size = 1});
  ASSERT_TRUE(admin);
  auto cut = (*admin)->query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
      "AND (query LIKE 'LISTEN%' OR query = 'SELECT 1')");
  ASSERT_TRUE(cut) << cut.error().message;
  ASSERT_FALSE(cut->empty());
  // Changes sent from now on arrive once the feed is back.
  bool heard = false;
  for (int i = 0; i < 50 && !heard; ++i) {
    ASSERT_TRUE((*a)->publish("device.unbound", "CAM-" + std::to_string(i)));
    heard =
        heard_b.wait_for("device.unbound|CAM-" + std::to_string(i), std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(heard) << "the feed did not come back";
  EXPECT_GE(resyncs.load(), 1) << "a feed that was away says so";
}

// One process (SQLite): the change reaches the listener too.
TEST(ChangeFeed, OneProcessHearsItsOwnChanges) {
  Heard heard;
  auto feed = local_change_feed();
  feed->on_change([&](auto topic, auto payload) { heard.add(topic, payload); });
  EXPECT_TRUE(feed->publish("account.cancelled", "user-1"));
  EXPECT_TRUE(heard.wait_for("account.cancelled|user-1", std::chrono::seconds(2)));
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
  // A time in ms does not fit PostgreSQL's 32-bit INTEGER; SQLite's is 64 bits.
  EXPECT_EQ(postgres_dialect("ALTER TABLE t ADD COLUMN at_ms INTEGER NOT NULL"),
            "ALTER TABLE t ADD COLUMN at_ms BIGINT NOT NULL");
}

}  // namespace
}  // namespace nj::store
