#include "device/registry.h"

#include <gtest/gtest.h>

#include <set>

#include "device/broker_link.h"
#include "device_protocol/messages.h"
#include "store/migrations.h"
#include "store/test_postgres.h"

namespace nj::device {
namespace {

class RegistryTest : public ::testing::Test {
 protected:
  RegistryTest()
      : db_(store::testing::open_test_database()),
        clock_(1'795'947'665'000),
        secrets_(std::vector<uint8_t>(32, 7)),
        registry_(*db_, secrets_, clock_) {
    EXPECT_TRUE(store::migrate(*db_, store::builtin_migrations()));
  }
  std::unique_ptr<store::Database> db_;
  ManualClock clock_;
  SecretDeriver secrets_;
  DeviceRegistry registry_;
};

TEST_F(RegistryTest, AddsADeviceWithItsOwnSecretStoredOnlyAsAHash) {
  auto a = registry_.add({"CAM-001", "NJ-C1", "1.0.0", "aa-bb-cc-dd-ee-ff", "", "", "audio;sd"});
  ASSERT_TRUE(a) << a.error().message;
  auto b = registry_.add({"CAM-002", "NJ-C1", "", "", "", "", ""});
  ASSERT_TRUE(b);
  EXPECT_EQ(a->secret.size(), 32u);
  EXPECT_NE(a->secret, b->secret) << "no shared default password";
  EXPECT_EQ(a->device.mac, "AA:BB:CC:DD:EE:FF");
  EXPECT_TRUE(registry_.check_secret("CAM-001", a->secret));
  EXPECT_FALSE(registry_.check_secret("CAM-001", b->secret));
  EXPECT_FALSE(registry_.check_secret("CAM-009", a->secret));
  // The database holds no secret in clear.
  auto rows = db_->query("SELECT secret_hash FROM devices");
  ASSERT_TRUE(rows);
  for (const auto& r : *rows) {
    EXPECT_NE(r.text(0), a->secret);
    EXPECT_NE(r.text(0), b->secret);
  }
  // The server can make the same secret again (for the broker), and no one else can.
  auto stored = registry_.by_serial("CAM-001");
  ASSERT_TRUE(stored);
  EXPECT_EQ(registry_.current_secret(*stored), a->secret);
  SecretDeriver other(std::vector<uint8_t>(32, 8));
  EXPECT_NE(other.secret("CAM-001", 1), a->secret);
  EXPECT_NE(secrets_.secret("CAM-001", 2), a->secret) << "a new generation, a new secret";
}

TEST_F(RegistryTest, RefusesBadFieldsAndDuplicates) {
  ASSERT_TRUE(registry_.add({"CAM-1", "", "", "", "", "", ""}));
  EXPECT_EQ(registry_.add({"CAM-1", "", "", "", "", "", ""}).error().code, Errc::kConflict);
  EXPECT_EQ(registry_.add({"bad serial", "", "", "", "", "", ""}).error().field, "serial");
  EXPECT_EQ(registry_.add({"", "", "", "", "", "", ""}).error().field, "serial");
  EXPECT_EQ(registry_.add({"C2", "", "", "zz:zz", "", "", ""}).error().field, "mac");
  EXPECT_EQ(registry_.add({"C2", "", "", "", "12345", "", ""}).error().field, "imei");
  EXPECT_EQ(registry_.add({"C2", "", "", "", "", "1234", ""}).error().field, "iccid");
  EXPECT_EQ(registry_.add({"C2", "", "", "", "", "", "audio;laser"}).error().field, "capabilities");
  EXPECT_EQ(registry_.all().size(), 1u);
}

TEST_F(RegistryTest, ImportsAFactoryCsvAllOrNothing) {
  auto bad = registry_.import_csv(
      "serial,model,imei\n"
      "F-1,NJ-4G,356938035643809\n"
      "F-2,NJ-4G,not-an-imei\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("line 3"), std::string::npos) << bad.error().message;
  EXPECT_TRUE(registry_.all().empty()) << "nothing of a rejected file is kept";

  auto good = registry_.import_csv(
      "serial, model, imei, iccid, capabilities\r\n"
      "F-1,NJ-4G,356938035643809,89860012345678901234,audio;talk;sd\r\n"
      "\n"
      "F-2,NJ-4G,,,\r\n");
  ASSERT_TRUE(good) << good.error().message;
  ASSERT_EQ(good->size(), 2u);
  auto f1 = registry_.by_serial("F-1");
  ASSERT_TRUE(f1);
  EXPECT_EQ(f1->imei, "356938035643809");
  EXPECT_EQ(f1->iccid, "89860012345678901234");
  EXPECT_EQ(f1->capabilities, "audio;talk;sd");
  EXPECT_TRUE(registry_.check_secret("F-2", (*good)[1].secret));

  EXPECT_FALSE(registry_.import_csv("serial\nF-1\n")) << "a duplicate serial";
  EXPECT_FALSE(registry_.import_csv("model\nX\n")) << "no serial column";
  EXPECT_FALSE(registry_.import_csv("serial,colour\nF-9,red\n")) << "an unknown column";
  EXPECT_FALSE(registry_.import_csv("serial,model\nF-9\n")) << "a short line";
  EXPECT_EQ(registry_.all().size(), 2u);
}

TEST_F(RegistryTest, PresenceIsRecorded) {
  ASSERT_TRUE(registry_.add({"CAM-1", "", "1.0", "", "", "", ""}));
  registry_.set_presence("CAM-1", true, "192.0.2.7", "1.1");
  auto d = registry_.by_serial("CAM-1");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->online);
  EXPECT_EQ(d->ip, "192.0.2.7");
  EXPECT_EQ(d->firmware, "1.1");
  EXPECT_EQ(d->last_seen_at, clock_.now_ms());
  clock_.advance_ms(5000);
  registry_.set_presence("CAM-1", false, "", "");
  d = registry_.by_serial("CAM-1");
  EXPECT_FALSE(d->online);
  EXPECT_EQ(d->ip, "192.0.2.7") << "kept when the offline message does not say";
  EXPECT_EQ(d->firmware, "1.1");
}

TEST_F(RegistryTest, TrafficIsCountedPerDayAndForgottenWithTheBinding) {
  auto a = registry_.add({"CAM-T1", "NJ-C1", "", "", "", "", ""});
  ASSERT_TRUE(a);
  registry_.add_traffic("CAM-T1", 1000);
  registry_.add_traffic("CAM-T1", 500);
  auto d = registry_.by_serial("CAM-T1");
  ASSERT_TRUE(d);
  auto days = registry_.traffic(d->id, 30);
  ASSERT_EQ(days.size(), 1u);
  EXPECT_EQ(days[0].bytes, 1500);
  registry_.forget_traffic(d->id);
  EXPECT_TRUE(registry_.traffic(d->id, 30).empty());
}

TEST_F(RegistryTest, TheSdCardStateIsKeptAsReported) {
  ASSERT_TRUE(registry_.add({"CAM-1", "", "1.0", "", "", "", ""}));
  EXPECT_EQ(registry_.by_serial("CAM-1")->sd_state, "");
  const auto report = nlohmann::json::parse(
      R"({"capacity_bytes": 1000, "used_bytes": 250, "health": "ok", "extra": 1})");
  const auto kept = device_protocol::read_sd_state(report);
  ASSERT_TRUE(kept);
  registry_.set_sd_state("CAM-1", device_protocol::to_json(*kept).dump());
  const auto d = registry_.by_serial("CAM-1");
  EXPECT_EQ(nlohmann::json::parse(d->sd_state),
            nlohmann::json::parse(R"({"capacity_bytes":1000,"used_bytes":250,"health":"ok"})"))
      << "only the known fields are kept";
  EXPECT_EQ(d->sd_state_at, clock_.now_ms());
  // Malformed or absurd reports are refused.
  for (const char* bad : {R"([])", R"({"capacity_bytes": 10, "used_bytes": 20, "health": "ok"})",
                          R"({"capacity_bytes": -1, "used_bytes": 0, "health": "ok"})",
                          R"({"capacity_bytes": 10, "used_bytes": 0})",
                          R"({"capacity_bytes": 10, "used_bytes": 0, "health": 3})",
                          R"({"capacity_bytes": 1e30, "used_bytes": 0, "health": "ok"})"}) {
    EXPECT_FALSE(device_protocol::read_sd_state(nlohmann::json::parse(bad))) << bad;
  }
}

}  // namespace
}  // namespace nj::device
