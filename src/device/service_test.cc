#include "device/service.h"

#include <gtest/gtest.h>

#include "store/migrations.h"
#include "store/sqlite_database.h"

namespace nj::device {
namespace {

class ServiceTest : public ::testing::Test {
 protected:
  ServiceTest()
      : db_(std::move(store::open_sqlite(":memory:")).value()),
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
    EXPECT_TRUE(registry_.add({"CAM-1", "NJ-C1", "", "", "", "", "audio"}));
    EXPECT_TRUE(registry_.add({"CAM-2", "", "", "", "", "", ""}));
  }
  std::unique_ptr<store::Database> db_;
  ManualClock clock_;
  SecretDeriver secrets_;
  DeviceRegistry registry_;
  DeviceService service_;
};

TEST_F(ServiceTest, ABindTokenBindsOnceWithinTenMinutes) {
  auto token = service_.create_bind_token("alice");
  ASSERT_TRUE(token);
  EXPECT_EQ(token->expires_at, clock_.now_ms() + 10 * 60 * 1000);
  auto bound = service_.claim("CAM-1", token->token);
  ASSERT_TRUE(bound) << bound.error().message;
  EXPECT_EQ(bound->owner_id.value_or(""), "alice");
  EXPECT_EQ(bound->name, "NJ-C1");
  EXPECT_TRUE(bound->enabled);
  // Spent: a second device cannot use it.
  EXPECT_EQ(service_.claim("CAM-2", token->token).error().field, "token");
  // Expired: refused.
  auto late = service_.create_bind_token("alice");
  clock_.advance_ms(10 * 60 * 1000 + 1);
  EXPECT_FALSE(service_.claim("CAM-2", late->token));
  EXPECT_FALSE(service_.claim("CAM-2", "made-up"));
  EXPECT_EQ(service_.claim("NOPE", "x").error().code, Errc::kNotFound);
}

TEST_F(ServiceTest, AnotherPersonsDeviceIsNotFoundAndCannotBeTaken) {
  auto a = service_.create_bind_token("alice");
  ASSERT_TRUE(service_.claim("CAM-1", a->token));
  const auto id = registry_.by_serial("CAM-1")->id;
  EXPECT_EQ(service_.get("bob", id).error().code, Errc::kNotFound);
  EXPECT_EQ(service_.rename("bob", id, "mine now").error().code, Errc::kNotFound);
  EXPECT_EQ(service_.unbind("bob", id, {}).error().code, Errc::kNotFound);
  EXPECT_FALSE(service_.role_by_serial("bob", "CAM-1"));
  EXPECT_EQ(service_.role_by_serial("alice", "CAM-1"), Role::kOwner);
  auto b = service_.create_bind_token("bob");
  EXPECT_EQ(service_.claim("CAM-1", b->token).error().code, Errc::kConflict)
      << "a bound device must be unbound by its owner first";
  EXPECT_TRUE(service_.list("bob").empty());
  ASSERT_EQ(service_.list("alice").size(), 1u);
}

TEST_F(ServiceTest, RenameAndUnbind) {
  auto a = service_.create_bind_token("alice");
  ASSERT_TRUE(service_.claim("CAM-1", a->token));
  const auto id = registry_.by_serial("CAM-1")->id;
  EXPECT_EQ(service_.rename("alice", id, "Front door")->device.name, "Front door");
  EXPECT_EQ(service_.rename("alice", id, "").error().field, "name");
  EXPECT_EQ(service_.rename("alice", id, std::string(65, 'x')).error().field, "name");
  std::string stopped;
  ASSERT_TRUE(service_.unbind("alice", id, [&](const std::string& s) { stopped = s; }));
  EXPECT_EQ(stopped, "CAM-1");
  auto d = registry_.by_serial("CAM-1");
  EXPECT_FALSE(d->owner_id);
  EXPECT_FALSE(d->enabled) << "its credentials are off until it is bound again";
  EXPECT_EQ(d->name, "");
  EXPECT_TRUE(service_.list("alice").empty());
  // Bound again (by someone else this time), it is enabled again.
  auto c = service_.create_bind_token("carol");
  ASSERT_TRUE(service_.claim("CAM-1", c->token));
  EXPECT_TRUE(registry_.by_serial("CAM-1")->enabled);
}

TEST_F(ServiceTest, ACancelledAccountsTokenBindsNothing) {
  auto a = service_.create_bind_token("alice");
  ASSERT_TRUE(db_->execute("UPDATE users SET status = 'cancelled' WHERE id = 'alice'"));
  EXPECT_FALSE(service_.claim("CAM-1", a->token));
  EXPECT_FALSE(registry_.by_serial("CAM-1")->owner_id);
}

}  // namespace
}  // namespace nj::device
