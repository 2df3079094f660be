// For the device part's unit tests: an in-memory database with every migration, a manual
// clock, a registry and the device service, and three active people (alice, bob, carol).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "device/registry.h"
#include "device/service.h"
#include "store/migrations.h"
#include "store/test_postgres.h"

namespace nj::device {

class DeviceTestBed : public ::testing::Test {
 protected:
  DeviceTestBed()
      : db_(store::testing::open_test_database()),
        clock_(1'795'947'665'000),
        secrets_(std::vector<uint8_t>(32, 7)),
        registry_(*db_, secrets_, clock_),
        service_(*db_, registry_, clock_) {
    EXPECT_TRUE(store::migrate(*db_, store::builtin_migrations()));
    for (const char* id : {"alice", "bob", "carol"}) {
      const store::Value p[] = {std::string(id), std::string(id) + "@example.com"};
      EXPECT_TRUE(
          db_->execute("INSERT INTO users (id, email, password_hash, language, status, created_at) "
                       "VALUES ($1, $2, 'x', 'en', 'active', 0)",
                       p));
    }
  }
  std::unique_ptr<store::Database> db_;
  ManualClock clock_;
  SecretDeriver secrets_;
  DeviceRegistry registry_;
  DeviceService service_;
};

}  // namespace nj::device
