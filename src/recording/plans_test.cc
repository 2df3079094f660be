#include "recording/plans.h"

#include <gtest/gtest.h>

#include "recording/recorder.h"
#include "recording/test_stream.h"
#include "store/migrations.h"
#include "store/test_postgres.h"

namespace nj::recording {
namespace {

constexpr int64_t kT0 = 1'795'000'000'000;  // the test stream's capture clock, in ms
constexpr int64_t kDay = 86'400'000;

class PlansTest : public ::testing::Test {
 protected:
  PlansTest()
      : dir_(std::filesystem::temp_directory_path() /
             ("nj-plans-" + std::to_string(::getpid()) + "-" +
              std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()))),
        db_(store::testing::open_test_database()),
        clock_(kT0),
        store_(dir_),
        catalog_(*db_),
        plans_(*db_, clock_) {
    EXPECT_TRUE(store::migrate(*db_, store::builtin_migrations()));
    for (const char* serial : {"CAM-1", "CAM-2"}) {
      const store::Value p[] = {std::string("dev-") + serial, std::string(serial)};
      EXPECT_TRUE(
          db_->execute("INSERT INTO devices (id, serial, secret_hash, created_at, owner_id) "
                       "VALUES ($1, $2, 'x', 0, NULL)",
                       p));
    }
  }
  ~PlansTest() override { std::filesystem::remove_all(dir_); }

  // Minutes of recording of a device, starting at `at_ms` by the camera's clock.
  void record(const std::string& serial, int64_t at_ms, int minutes) {
    RecorderOptions o;
    o.sync = false;
    o.reserve_bytes = 0;
    o.segment_length = std::chrono::seconds(60);
    StreamRecorder r(store_, catalog_, o, "dev-" + serial, serial);
    testing::Stream s(50, at_ms * 1000, 2000, 400);
    r.begin(testing::stream_info());
    for (int i = 0; i < minutes * 60 * 25; ++i) {
      for (const auto& f : s.next()) r.push(f);
    }
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
  ManualClock clock_;
  LocalStore store_;
  Catalog catalog_;
  Plans plans_;
};

TEST_F(PlansTest, PlansAreCheckedAndGrantedForAPeriod) {
  EXPECT_FALSE(plans_.create("", 7, "continuous"));
  EXPECT_FALSE(plans_.create("week", 0, "continuous"));
  EXPECT_FALSE(plans_.create("week", 7, "sometimes"));
  ASSERT_TRUE(plans_.create("week", 7, "continuous"));
  EXPECT_FALSE(plans_.create("week", 30, "continuous")) << "names are unique";
  EXPECT_FALSE(plans_.grant("CAM-1", "month", kT0, kT0 + kDay)) << "no such plan";
  EXPECT_FALSE(plans_.grant("NOPE", "week", kT0, kT0 + kDay)) << "no such device";
  EXPECT_FALSE(plans_.grant("CAM-1", "week", kT0, kT0)) << "empty period";
  ASSERT_TRUE(plans_.grant("CAM-1", "week", kT0 + kDay, kT0 + 30 * kDay));
  EXPECT_FALSE(plans_.in_force("dev-CAM-1")) << "not yet";
  clock_.advance_ms(kDay);
  const auto p = plans_.in_force("dev-CAM-1");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->plan.retention_days, 7);
  EXPECT_EQ(p->grant.ends_at, kT0 + 30 * kDay);
  plans_.revoke("CAM-1");
  EXPECT_FALSE(plans_.in_force("dev-CAM-1")) << "cancelled: over at once";
}

TEST_F(PlansTest, EveryDeviceWithAPlanInForceIsListedWithItsLatestEndingPlan) {
  ASSERT_TRUE(plans_.create("week", 7, "continuous"));
  const auto alarms = plans_.create("alarms", 30, "events", 3, 20);
  ASSERT_TRUE(alarms);
  EXPECT_FALSE(plans_.create("long", 7, "events", 61, 10)) << "a pre-roll over a minute";
  ASSERT_TRUE(plans_.grant("CAM-1", "week", kT0, kT0 + 10 * kDay));
  ASSERT_TRUE(plans_.grant("CAM-1", "alarms", kT0, kT0 + 20 * kDay));  // overlaps, ends later
  ASSERT_TRUE(plans_.grant("CAM-2", "week", kT0 + 2 * kDay, kT0 + 3 * kDay));
  EXPECT_TRUE(plans_.all_in_force().empty()) << "no camera is bound to anyone yet";
  ASSERT_TRUE(
      db_->execute("INSERT INTO users (id, email, password_hash, language, status, created_at) "
                   "VALUES ('u1', 'a@example.org', 'x', 'en', 'active', 0)"));
  ASSERT_TRUE(db_->execute("UPDATE devices SET owner_id = 'u1'"));
  auto all = plans_.all_in_force();
  ASSERT_EQ(all.size(), 1u) << "CAM-2's starts in two days";
  EXPECT_EQ(all[0].first, "dev-CAM-1");
  EXPECT_EQ(all[0].second.first, "CAM-1");
  EXPECT_EQ(all[0].second.second.plan.name, "alarms");
  EXPECT_EQ(all[0].second.second.plan.pre_roll_s, 3);
  EXPECT_EQ(all[0].second.second.plan.post_roll_s, 20);
  clock_.set_ms(kT0 + 2 * kDay + 1);
  EXPECT_EQ(plans_.all_in_force().size(), 2u);
  clock_.set_ms(kT0 + 25 * kDay);
  EXPECT_TRUE(plans_.all_in_force().empty()) << "every grant has ended";
}

TEST_F(PlansTest, MediaPastRetentionAndEverythingAfterThePlanEndsIsDeleted) {
  ASSERT_TRUE(plans_.create("week", 7, "continuous"));
  ASSERT_TRUE(plans_.grant("CAM-1", "week", kT0, kT0 + 30 * kDay));
  ASSERT_TRUE(plans_.grant("CAM-2", "week", kT0, kT0 + 30 * kDay));
  record("CAM-1", kT0, 3);             // day 0
  record("CAM-1", kT0 + 5 * kDay, 2);  // day 5
  record("CAM-2", kT0, 2);
  ASSERT_EQ(catalog_.of_device("dev-CAM-1").size(), 5u);
  const auto old_key = catalog_.of_device("dev-CAM-1").front().store_key;
  ASSERT_TRUE(std::filesystem::exists(dir_ / old_key));

  clock_.set_ms(kT0 + 6 * kDay);
  EXPECT_EQ(reap(catalog_, store_, plans_, clock_).segments, 0u) << "all within 7 days";
  clock_.set_ms(kT0 + 8 * kDay);
  const auto reaped = reap(catalog_, store_, plans_, clock_);
  EXPECT_EQ(reaped.segments, 5u) << "day 0 of both cameras";
  EXPECT_GT(reaped.bytes, 0u);
  EXPECT_FALSE(std::filesystem::exists(dir_ / old_key)) << "gone from disk";
  ASSERT_EQ(catalog_.of_device("dev-CAM-1").size(), 2u) << "day 5 stays";
  EXPECT_TRUE(catalog_.of_device("dev-CAM-2").empty());

  // The plan ends: everything of that device goes, within the reaper's next run.
  plans_.revoke("CAM-1");
  EXPECT_EQ(reap(catalog_, store_, plans_, clock_).segments, 2u);
  EXPECT_TRUE(catalog_.of_device("dev-CAM-1").empty());
  EXPECT_TRUE(store_.list("default/CAM-1/").empty());
}

}  // namespace
}  // namespace nj::recording
