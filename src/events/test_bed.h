// For the events part's unit tests: an in-memory database with every migration and two
// devices (DEV-A, DEV-B by serial; ids "aa…", "bb…").
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "store/migrations.h"
#include "store/test_postgres.h"

namespace nj::events {

inline const std::string kDeviceA(32, 'a');
inline const std::string kDeviceB(32, 'b');

inline std::unique_ptr<store::Database> events_db() {
  auto db = store::testing::open_test_database();
  EXPECT_TRUE(store::migrate(*db, store::builtin_migrations()));
  for (const auto& [id, serial] : {std::pair{kDeviceA, "DEV-A"}, std::pair{kDeviceB, "DEV-B"}}) {
    const store::Value p[] = {id, std::string(serial)};
    EXPECT_TRUE(db->execute(
        "INSERT INTO devices (id, serial, secret_hash, created_at) VALUES ($1, $2, 'x', 0)", p));
  }
  return db;
}

}  // namespace nj::events
