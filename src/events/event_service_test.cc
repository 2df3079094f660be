#include "events/event_service.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/clock.h"
#include "events/test_bed.h"

namespace nj::events {
namespace {

// Pictures the test hands out when it likes.
class FakeTaker : public SnapshotTaker {
 public:
  void take(const std::string& serial, const std::string& event_id,
            std::function<void(std::optional<std::string>)> done) override {
    asked.push_back({serial, event_id, std::move(done)});
  }
  struct Asked {
    std::string serial;
    std::string event_id;
    std::function<void(std::optional<std::string>)> done;
  };
  std::vector<Asked> asked;
};

class EventServiceTest : public ::testing::Test {
 protected:
  EventServiceTest()
      : db_(events_db()),
        store_(*db_),
        dir_(std::filesystem::temp_directory_path() /
             ("nj-events-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())),
        files_(dir_),
        clock_(1'800'000'000'000),
        service_(store_, files_, clock_,
                 [](const std::string& serial) -> std::optional<std::string> {
                   if (serial == "DEV-A") return kDeviceA;
                   if (serial == "DEV-B") return kDeviceB;
                   return std::nullopt;
                 }) {
    service_.set_snapshot_taker(&taker_);
    service_.add_listener([this](const Event& e, EventService::Change c) {
      told_.push_back({e, c});
    });
  }
  ~EventServiceTest() override { std::filesystem::remove_all(dir_); }
  std::vector<Event> all(const std::string& device) {
    EventQuery q;
    q.user_id = "u";
    q.device_ids = {device};
    q.limit = 100000;
    return store_.list(q).events;
  }

  std::unique_ptr<store::Database> db_;
  EventStore store_;
  std::filesystem::path dir_;
  SnapshotFiles files_;
  ManualClock clock_;
  EventService service_;
  FakeTaker taker_;
  std::vector<std::pair<Event, EventService::Change>> told_;
};

TEST_F(EventServiceTest, AMotionEventWithItsPictureAndItsEnd) {
  EXPECT_EQ(service_.report("DEV-A", "motion", true, 0.7), Outcome::kStarted);
  ASSERT_EQ(told_.size(), 1u);
  EXPECT_EQ(told_[0].second, EventService::Change::kStarted);
  const std::string id = told_[0].first.id;
  ASSERT_EQ(taker_.asked.size(), 1u);
  taker_.asked[0].done(std::string("\xff\xd8 a picture \xff\xd9"));
  EXPECT_EQ(files_.read(kDeviceA, id).value_or(""), std::string("\xff\xd8 a picture \xff\xd9"));
  clock_.advance_ms(4000);
  EXPECT_EQ(service_.report("DEV-A", "motion", false, 0), Outcome::kEnded);
  auto e = store_.get(id, "u");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->end_ms, e->start_ms + 4000);
  EXPECT_EQ(e->snapshot_bytes, 15);
  EXPECT_DOUBLE_EQ(e->score, 0.7);
  EXPECT_EQ(told_.back().second, EventService::Change::kEnded);
  // An end with nothing open, a kind the camera may not report, a stranger: nothing.
  EXPECT_EQ(service_.report("DEV-A", "motion", false, 0), Outcome::kIgnored);
  EXPECT_EQ(service_.report("DEV-A", "offline", true, 0), Outcome::kRefused);
  EXPECT_EQ(service_.report("DEV-A", "fire", true, 0), Outcome::kRefused);
  EXPECT_EQ(service_.report("DEV-Z", "motion", true, 0), Outcome::kRefused);
  EXPECT_EQ(all(kDeviceA).size(), 1u);
}

TEST_F(EventServiceTest, AnEventGathersTheZonesOfItsReports) {
  service_.report("DEV-A", "motion", true, 0.5, {"drive"});
  const std::string id = told_[0].first.id;
  EXPECT_EQ(told_[0].first.zones, R"(["drive"])") << "listeners hear the zones at once";
  EXPECT_EQ(store_.get(id, "u")->zones, R"(["drive"])");
  clock_.advance_ms(1000);
  service_.report("DEV-A", "motion", false, 0, {"door", "drive"});  // seen while it went on
  clock_.advance_ms(1000);
  service_.report("DEV-A", "motion", true, 0.5, {"gate"});  // grouped into the same event
  clock_.advance_ms(1000);
  service_.report("DEV-A", "motion", false, 0);
  EXPECT_EQ(store_.get(id, "u")->zones, R"(["drive","door","gate"])");
  EXPECT_EQ(told_.back().first.zones, R"(["drive","door","gate"])");
  EXPECT_EQ(all(kDeviceA).size(), 1u);
  // Without zones: none are named.
  clock_.advance_ms(60'000);
  service_.report("DEV-A", "sound", true, 0.5);
  service_.report("DEV-A", "sound", false, 0);
  EXPECT_EQ(told_.back().first.zones, "");
}

TEST_F(EventServiceTest, ABusySceneIsGroupedAndAFloodIsBounded) {
  // Starts and ends a second apart are one event with a count.
  for (int i = 0; i < 5; ++i) {
    service_.report("DEV-A", "motion", true, 0.1 * i);
    clock_.advance_ms(500);
    service_.report("DEV-A", "motion", false, 0);
    clock_.advance_ms(500);
  }
  auto events = all(kDeviceA);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].reports, 5);
  EXPECT_NEAR(events[0].score, 0.4, 1e-9);

  // 10,000 separate motions 6 s apart (past the grouping time): each its own event, as the
  // allowance (burst 10, then one a second) is never used up at that pace.
  clock_.advance_ms(60'000);
  for (int i = 0; i < 10'000; ++i) {
    service_.report("DEV-A", "motion", true, 0.5);
    clock_.advance_ms(1);
    service_.report("DEV-A", "motion", false, 0);
    clock_.advance_ms(6000);
  }
  events = all(kDeviceA);
  EXPECT_EQ(events.size(), 10'001u);

  // A flood: 10,000 starts and ends 1 ms apart from another camera are one event.
  const size_t before = all(kDeviceB).size();
  EXPECT_EQ(before, 0u);
  int grouped = 0;
  for (int i = 0; i < 10'000; ++i) {
    auto o = service_.report("DEV-B", "sound", true, 0.5);
    if (o == Outcome::kGrouped) ++grouped;
    service_.report("DEV-B", "sound", false, 0);
    clock_.advance_ms(1);
  }
  events = all(kDeviceB);
  EXPECT_EQ(events.size(), 1u) << "within the grouping time of each other: one event";
  EXPECT_EQ(events[0].reports, 10'000);
  EXPECT_EQ(grouped, 9'999);
  // DEV-A is not slowed by DEV-B: its next report is its own new event.
  clock_.advance_ms(60'000);
  EXPECT_EQ(service_.report("DEV-A", "person", true, 0.9), Outcome::kStarted);
}

TEST_F(EventServiceTest, OverTheAllowanceReportsJoinTheLatestEvent) {
  // Starts 6 s apart (past the grouping time), 30 in 3 minutes, against an allowance of 3 at
  // once and one per 100 s after that.
  EventServiceOptions tight;
  tight.new_per_second = 0.01;
  tight.burst = 3;
  EventService strict(
      store_, files_, clock_,
      [](const std::string&) -> std::optional<std::string> { return kDeviceB; }, tight);
  int started = 0;
  for (int i = 0; i < 30; ++i) {
    if (strict.report("DEV-B", "motion", true, 0.5) == Outcome::kStarted) ++started;
    clock_.advance_ms(100);
    strict.report("DEV-B", "motion", false, 0);
    clock_.advance_ms(5900);
  }
  // 3 at once, then one per 100 s: 180 s of reports allow one more.
  EXPECT_EQ(started, 4);
  const auto events = all(kDeviceB);
  int64_t reports = 0;
  for (const auto& e : events) reports += e.reports;
  EXPECT_EQ(reports, 30) << "every report is counted in some event";
}

TEST_F(EventServiceTest, OfflineAndPrivacyModeAreEventsThatLastAsLongAsTheyDo) {
  service_.state("DEV-A", true, false);  // the first state only sets what is known
  EXPECT_TRUE(all(kDeviceA).empty());
  service_.report("DEV-A", "motion", true, 0.5);
  clock_.advance_ms(1000);
  service_.state("DEV-A", false, false);  // gone: its open motion ends, an offline begins
  clock_.advance_ms(3'600'000);
  service_.state("DEV-A", true, false);
  service_.state("DEV-A", true, true);
  clock_.advance_ms(60'000);
  service_.state("DEV-A", true, false);
  auto events = all(kDeviceA);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kind, Kind::kPrivacyMode);
  EXPECT_EQ(*events[0].end_ms - events[0].start_ms, 60'000);
  EXPECT_EQ(events[1].kind, Kind::kOffline);
  EXPECT_EQ(*events[1].end_ms - events[1].start_ms, 3'600'000);
  EXPECT_EQ(events[2].kind, Kind::kMotion);
  EXPECT_EQ(*events[2].end_ms - events[2].start_ms, 1000);
  EXPECT_EQ(taker_.asked.size(), 1u) << "pictures are of what a camera saw, not of an outage";
}

TEST_F(EventServiceTest, AFailingCardAndFullStorageAreEventsWhileTheyLast) {
  service_.condition("DEV-A", Kind::kSdCard, false);  // fine: nothing
  EXPECT_TRUE(all(kDeviceA).empty());
  service_.condition("DEV-A", Kind::kSdCard, true);
  service_.condition("DEV-A", Kind::kSdCard, true);  // said again: the same event
  clock_.advance_ms(120'000);
  service_.condition("DEV-A", Kind::kStorageFull, true);
  clock_.advance_ms(30 * 60'000);  // past the 10 minutes a camera's report may last
  service_.tick();
  service_.condition("DEV-A", Kind::kSdCard, false);
  service_.condition("DEV-A", Kind::kMotion, true);  // not a condition: ignored
  auto events = all(kDeviceA);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, Kind::kStorageFull);
  EXPECT_FALSE(events[0].end_ms) << "still full";
  EXPECT_EQ(events[1].kind, Kind::kSdCard);
  ASSERT_TRUE(events[1].end_ms);
  EXPECT_EQ(*events[1].end_ms - events[1].start_ms, 120'000 + 30 * 60'000);
  EXPECT_TRUE(taker_.asked.empty()) << "no picture of a card";
  service_.condition("DEV-B-UNKNOWN", Kind::kSdCard, true);  // not bound: nothing
}

TEST_F(EventServiceTest, AConnectionThatFlapsIsOneOfflineEventWithACount) {
  service_.state("DEV-A", true, false);
  for (int i = 0; i < 1000; ++i) {
    service_.state("DEV-A", false, false);
    clock_.advance_ms(50);
    service_.state("DEV-A", true, false);
    clock_.advance_ms(50);
  }
  const auto events = all(kDeviceA);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kOffline);
  EXPECT_EQ(events[0].reports, 1000);
}

TEST_F(EventServiceTest, AnEventThatNeverEndsIsClosedAndUnbindingForgetsEverything) {
  service_.report("DEV-A", "motion", true, 0.5);
  const std::string id = told_.at(0).first.id;
  taker_.asked.at(0).done(std::string("jpeg"));
  clock_.advance_ms(kMaxReportedEventMs + 1000);
  service_.tick();
  auto e = store_.get(id, "u");
  ASSERT_TRUE(e && e->end_ms);
  EXPECT_EQ(*e->end_ms - e->start_ms, kMaxReportedEventMs);

  service_.report("DEV-A", "person", true, 0.5);
  service_.forget("DEV-A", kDeviceA);
  EXPECT_TRUE(all(kDeviceA).empty());
  EXPECT_FALSE(files_.read(kDeviceA, id));
  // A picture that arrives after the binding ended is not kept.
  taker_.asked.at(1).done(std::string("late"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / kDeviceA));
}

TEST_F(EventServiceTest, EventsLeftOpenByAStopAreClosed) {
  service_.report("DEV-A", "motion", true, 0.5);
  service_.report("DEV-A", "person", true, 0.5, {"porch"});
  service_.close_left_open();
  auto events = all(kDeviceA);
  ASSERT_EQ(events.size(), 2u);
  for (const auto& e : events) EXPECT_EQ(e.end_ms, e.start_ms);
  EXPECT_EQ(store_.get(told_.back().first.id, "u")->zones, R"(["porch"])") << "kept";
}

}  // namespace
}  // namespace nj::events
