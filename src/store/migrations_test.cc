#include "store/migrations.h"

#include <gtest/gtest.h>

#include "store/test_postgres.h"

namespace nj::store {
namespace {

std::unique_ptr<Database> open_memory() { return testing::open_test_database(); }

TEST(Migrations, AppliesInOrderOnceAndRecordsVersions) {
  auto db = open_memory();
  const Migration ms[] = {{1, "a", "CREATE TABLE a (x INTEGER);"},
                          {2, "b", "CREATE TABLE b (y INTEGER); INSERT INTO b VALUES (1);"}};
  auto v = migrate(*db, ms);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(*v, 2);
  // Running again applies nothing (b would get a second row otherwise).
  ASSERT_TRUE(migrate(*db, ms));
  EXPECT_EQ(db->query("SELECT COUNT(*) FROM b")->at(0).integer(0), 1);
  auto rows = db->query("SELECT version, name FROM schema_version ORDER BY version");
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->at(1).text(1), "b");
}

TEST(Migrations, FailedMigrationLeavesNoTrace) {
  auto db = open_memory();
  const Migration ms[] = {{1, "ok", "CREATE TABLE a (x INTEGER);"},
                          {2, "broken", "CREATE TABLE c (z INTEGER); THIS IS NOT SQL;"}};
  auto v = migrate(*db, ms);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, Errc::kMigration);
  EXPECT_NE(v.error().message.find("2_broken"), std::string::npos);
  EXPECT_EQ(*schema_version(*db), 1);
  EXPECT_FALSE(db->query("SELECT * FROM c"));  // rolled back with its migration
}

TEST(Migrations, RefusesDatabaseNewerThanBinary) {
  auto db = open_memory();
  const Migration newer[] = {{1, "a", "SELECT 1;"}, {2, "b", "SELECT 1;"}};
  ASSERT_TRUE(migrate(*db, newer));
  const Migration older[] = {{1, "a", "SELECT 1;"}};
  auto v = migrate(*db, older);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("newer"), std::string::npos);
}

TEST(Migrations, BuiltinMigrationsApplyToAnEmptyDatabase) {
  auto db = open_memory();
  auto v = migrate(*db, builtin_migrations());
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(*v, builtin_migrations().back().version);
  EXPECT_TRUE(db->query("SELECT key, value FROM server_meta"));
}

}  // namespace
}  // namespace nj::store
