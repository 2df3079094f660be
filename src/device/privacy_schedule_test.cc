#include "device/privacy_schedule.h"

#include <gtest/gtest.h>

#include "device/privacy_scheduler.h"
#include "device/test_bed.h"

namespace nj::device {
namespace {

using nlohmann::json;

constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kMinuteMs = 60'000;

// Midnight UTC of a date, in Unix ms.
int64_t utc_midnight(int y, unsigned m, unsigned d) {
  return days_from_civil(y, m, d) * 86'400'000;
}

PrivacySchedule read(const json& j) {
  auto s = read_privacy_schedule(j);
  EXPECT_TRUE(s) << j.dump() << ": " << (s ? "" : s.error().field + " " + s.error().message);
  return s ? *s : PrivacySchedule{};
}

// Weeknights in Berlin: Monday to Friday, 22:00 to 07:00 the next morning.
const json kWeeknights = {
    {"time_zone", "Europe/Berlin"},
    {"windows",
     {{{"days", {"mon", "tue", "wed", "thu", "fri"}}, {"start", "22:00"}, {"end", "07:00"}}}}};

TEST(PrivacySchedule, ReadsAndWritesItsCanonicalForm) {
  const PrivacySchedule s = read(kWeeknights);
  EXPECT_TRUE(s.enabled);
  ASSERT_EQ(s.windows.size(), 1u);
  EXPECT_EQ(s.windows[0].days, 0b0011111);
  EXPECT_EQ(s.windows[0].start_minute, 22 * 60);
  EXPECT_EQ(s.windows[0].end_minute, 7 * 60);
  json expected = kWeeknights;
  expected["enabled"] = true;
  EXPECT_EQ(to_json(s), expected);
  // Days in any order and repeated read the same.
  auto again = read(
      {{"time_zone", "UTC"},
       {"enabled", false},
       {"windows", {{{"days", {"sun", "mon", "sun"}}, {"start", "00:00"}, {"end", "23:59"}}}}});
  EXPECT_FALSE(again.enabled);
  EXPECT_EQ(to_json(again)["windows"][0]["days"], json({"mon", "sun"}));
}

TEST(PrivacySchedule, RefusesWhatItCannotFollowNamingTheField) {
  const auto window = [](json days, json start, json end) {
    return json{{"time_zone", "UTC"},
                {"windows", {{{"days", days}, {"start", start}, {"end", end}}}}};
  };
  const std::vector<std::pair<json, std::string>> cases = {
      {json::array(), ""},
      {json{{"windows", json::array()}}, "time_zone"},
      {json{{"time_zone", "UTC"}}, "windows"},
      {json{{"time_zone", "../../etc/passwd"}, {"windows", json::array()}}, "time_zone"},
      {json{{"time_zone", "UTC"}, {"windows", json::array()}}, "windows"},
      {json{{"time_zone", "UTC"}, {"windows", json::array()}, {"colour", 1}}, "colour"},
      {json{{"time_zone", "UTC"}, {"windows", {1}}}, "windows.0"},
      {window({"mon"}, "24:00", "07:00"), "windows.0.start"},
      {window({"mon"}, "22:00", "7:00"), "windows.0.end"},
      {window({"mon"}, "22:00", "22:00"), "windows.0.end"},
      {window({"monday"}, "22:00", "07:00"), "windows.0.days"},
      {window(json::array(), "22:00", "07:00"), "windows.0.days"},
      {window("mon", "22:00", "07:00"), "windows.0.days"},
      {window({"mon"}, 2200, "07:00"), "windows.0.start"},
      {window({"mon"}, "22:00\n", "07:00"), "windows.0.start"},
      {json{{"time_zone", "UTC"},
            {"windows", {{{"days", {"mon"}}, {"start", "01:00"}, {"end", "02:00"}, {"x", 1}}}}},
       "windows.0.x"},
  };
  for (const auto& [input, field] : cases) {
    auto s = read_privacy_schedule(input);
    ASSERT_FALSE(s) << input.dump();
    EXPECT_EQ(s.error().field, field) << input.dump();
  }
  json nine = {{"time_zone", "UTC"}, {"windows", json::array()}};
  for (int i = 0; i < 9; ++i) {
    nine["windows"].push_back({{"days", {"mon"}}, {"start", "01:00"}, {"end", "02:00"}});
  }
  EXPECT_FALSE(read_privacy_schedule(nine));
}

TEST(PrivacySchedule, FollowsTheOwnersClock) {
  TimeZones zones;
  auto berlin = zones.find("Europe/Berlin");
  ASSERT_NE(berlin, nullptr);
  const PrivacySchedule s = read(kWeeknights);
  // Monday 7 December 2026 (winter, UTC+1): 22:00 Berlin is 21:00 UTC; Tuesday 07:00 is 06:00.
  const int64_t monday = utc_midnight(2026, 12, 7);
  const auto stretches = scheduled_stretches(s, *berlin, monday, monday + 24 * kHourMs);
  ASSERT_EQ(stretches.size(), 1u);
  EXPECT_EQ(stretches[0].start_ms, monday + 21 * kHourMs);
  EXPECT_EQ(stretches[0].end_ms, monday + 30 * kHourMs);

  const ScheduleEdge on = last_edge(s, *berlin, monday + 22 * kHourMs);
  EXPECT_TRUE(on.privacy);
  EXPECT_EQ(on.at_ms, monday + 21 * kHourMs);
  const ScheduleEdge off = last_edge(s, *berlin, monday + 36 * kHourMs);  // Tuesday noon
  EXPECT_FALSE(off.privacy);
  EXPECT_EQ(off.at_ms, monday + 30 * kHourMs);
  auto next = next_edge(s, *berlin, monday + 36 * kHourMs);
  ASSERT_TRUE(next);
  EXPECT_TRUE(next->privacy);
  EXPECT_EQ(next->at_ms, monday + 45 * kHourMs);  // Tuesday 22:00 Berlin
  // Friday night ends Saturday 07:00; nothing starts again until Monday 22:00.
  const int64_t saturday = utc_midnight(2026, 12, 12);
  EXPECT_EQ(last_edge(s, *berlin, saturday + 40 * kHourMs).at_ms, saturday + 6 * kHourMs);
  EXPECT_EQ(next_edge(s, *berlin, saturday + 12 * kHourMs)->at_ms,
            utc_midnight(2026, 12, 14) + 21 * kHourMs);

  // The night the clocks go forward (Saturday 28 to Sunday 29 March 2026) lasts an hour less,
  // from 22:00 CET to 07:00 CEST.
  const PrivacySchedule nightly =
      read({{"time_zone", "Europe/Berlin"},
            {"windows",
             {{{"days", {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}},
               {"start", "22:00"},
               {"end", "07:00"}}}}});
  const int64_t saturday_march = utc_midnight(2026, 3, 28);
  const auto spring = scheduled_stretches(nightly, *berlin, saturday_march + 12 * kHourMs,
                                          saturday_march + 36 * kHourMs);
  ASSERT_EQ(spring.size(), 1u);
  EXPECT_EQ(spring[0].start_ms, saturday_march + 21 * kHourMs);
  EXPECT_EQ(spring[0].end_ms, saturday_march + 29 * kHourMs);
}

TEST(PrivacySchedule, OverlappingWindowsAreOneAndAScheduleThatNeverEndsHasNoEdges) {
  TimeZones zones;
  auto utc = zones.find("UTC");
  const PrivacySchedule overlapping =
      read({{"time_zone", "UTC"},
            {"windows",
             {{{"days", {"mon"}}, {"start", "20:00"}, {"end", "23:00"}},
              {{"days", {"mon"}}, {"start", "22:00"}, {"end", "01:00"}}}}});
  const int64_t monday = utc_midnight(2026, 12, 7);
  // 23:00 is inside the second window: the first one's end is no edge.
  const ScheduleEdge at_2330 = last_edge(overlapping, *utc, monday + 23 * kHourMs + 30 * kMinuteMs);
  EXPECT_TRUE(at_2330.privacy);
  EXPECT_EQ(at_2330.at_ms, monday + 20 * kHourMs);
  EXPECT_EQ(next_edge(overlapping, *utc, monday + 21 * kHourMs)->at_ms, monday + 25 * kHourMs);

  const PrivacySchedule always =
      read({{"time_zone", "UTC"},
            {"windows",
             {{{"days", {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}},
               {"start", "00:00"},
               {"end", "12:00"}},
              {{"days", {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}},
               {"start", "12:00"},
               {"end", "00:00"}}}}});
  const ScheduleEdge edge = last_edge(always, *utc, monday);
  EXPECT_TRUE(edge.privacy);
  EXPECT_EQ(edge.at_ms, 0);
  EXPECT_EQ(last_edge(always, *utc, monday + 5 * kHourMs).at_ms,
            0);  // the same one, not re-applied
  EXPECT_FALSE(next_edge(always, *utc, monday));
}

// The scheduler against a real registry, with a camera whose answers the test gives.
class PrivacySchedulerTest : public DeviceTestBed {
 protected:
  void SetUp() override {
    DeviceSpec spec;
    spec.serial = "CAM-1";
    ASSERT_TRUE(registry_.add(spec));
    auto token = service_.create_bind_token("alice");
    ASSERT_TRUE(token);
    auto bound = service_.claim("CAM-1", token->token);
    ASSERT_TRUE(bound);
    id_ = bound->id;
    registry_.set_presence("CAM-1", true, "192.0.2.7", "1.0");
    say_privacy(false);
  }
  void say_privacy(bool on) {
    device_protocol::CameraSettings s;
    s.privacy_mode = on;
    registry_.set_settings("CAM-1", s);
  }
  void schedule(const json& j) { registry_.set_privacy_schedule(id_, to_json(read(j)).dump()); }
  // What the scheduler asked; the camera answers when `answer` says so.
  struct Asked {
    bool privacy;
    PrivacyScheduler::Done done;
  };
  PrivacyScheduler scheduler() {
    return PrivacyScheduler(
        registry_, zones_, clock_,
        [this](const std::string& serial, bool privacy, PrivacyScheduler::Done done) {
          EXPECT_EQ(serial, "CAM-1");
          asked_.push_back({privacy, std::move(done)});
        });
  }
  // The camera does it and says so.
  void obey(size_t i) {
    say_privacy(asked_.at(i).privacy);
    asked_.at(i).done(true);
  }

  TimeZones zones_;
  std::string id_;
  std::vector<Asked> asked_;
  const int64_t monday_ = utc_midnight(2026, 12, 7);
};

TEST_F(PrivacySchedulerTest, EachEdgeIsAppliedOnceAndTheOwnersSwitchWinsUntilTheNext) {
  auto s = scheduler();
  clock_.set_ms(monday_ + 12 * kHourMs);  // Monday 13:00 in Berlin
  schedule(kWeeknights);
  // Set outside its hours: nothing changes.
  EXPECT_EQ(s.tick(), 0u);
  EXPECT_TRUE(asked_.empty());
  // 22:00 Berlin: privacy mode on, asked once even while the camera has not answered.
  clock_.set_ms(monday_ + 21 * kHourMs);
  EXPECT_EQ(s.tick(), 1u);
  EXPECT_EQ(s.tick(), 0u);
  ASSERT_EQ(asked_.size(), 1u);
  EXPECT_TRUE(asked_[0].privacy);
  obey(0);
  EXPECT_TRUE(registry_.by_id(id_)->privacy_mode());
  EXPECT_EQ(registry_.by_id(id_)->privacy_schedule_edge, monday_ + 21 * kHourMs);
  // The owner turns it off at 23:00: the schedule does not turn it back on tonight.
  clock_.set_ms(monday_ + 22 * kHourMs);
  say_privacy(false);
  EXPECT_EQ(s.tick(), 0u);
  // 07:00: the camera is already as the edge wants it; nothing is sent.
  clock_.set_ms(monday_ + 30 * kHourMs);
  EXPECT_EQ(s.tick(), 0u);
  EXPECT_EQ(asked_.size(), 1u);
  // Tuesday 22:00, and Wednesday 07:00 turns it off again.
  clock_.set_ms(monday_ + 45 * kHourMs);
  EXPECT_EQ(s.tick(), 1u);
  obey(1);
  clock_.set_ms(monday_ + 54 * kHourMs);
  EXPECT_EQ(s.tick(), 1u);
  EXPECT_FALSE(asked_.at(2).privacy);
  obey(2);
  EXPECT_FALSE(registry_.by_id(id_)->privacy_mode());
  EXPECT_EQ(s.tick(), 0u);
}

TEST_F(PrivacySchedulerTest, AnOfflineOrFailingCameraGetsTheEdgeLater) {
  auto s = scheduler();
  clock_.set_ms(monday_ + 12 * kHourMs);
  schedule(kWeeknights);
  EXPECT_EQ(s.tick(), 0u);
  registry_.set_presence("CAM-1", false, "", "");
  clock_.set_ms(monday_ + 21 * kHourMs + kMinuteMs);
  EXPECT_EQ(s.tick(), 0u);  // offline: nothing to send it to
  registry_.set_presence("CAM-1", true, "192.0.2.7", "1.0");
  EXPECT_EQ(s.tick(), 1u);
  asked_.at(0).done(false);  // it did not answer in time
  // Still the edge marked at noon (Saturday 07:00 Berlin), so the next tick tries again.
  EXPECT_EQ(registry_.by_id(id_)->privacy_schedule_edge, utc_midnight(2026, 12, 5) + 6 * kHourMs);
  EXPECT_EQ(s.tick(), 1u);  // asked again
  obey(1);
  EXPECT_TRUE(registry_.by_id(id_)->privacy_mode());
  EXPECT_EQ(s.tick(), 0u);
}

TEST_F(PrivacySchedulerTest, AScheduleSetInsideItsHoursActsAtOnceAndEndsWithTheBinding) {
  auto s = scheduler();
  clock_.set_ms(monday_ + 23 * kHourMs);  // Tuesday 00:00 in Berlin
  schedule(kWeeknights);
  EXPECT_EQ(s.tick(), 1u);
  EXPECT_TRUE(asked_.at(0).privacy);
  obey(0);
  // A disabled schedule does nothing at its edges.
  json off = kWeeknights;
  off["enabled"] = false;
  schedule(off);
  clock_.set_ms(monday_ + 30 * kHourMs);
  EXPECT_EQ(s.tick(), 0u);
  // Unbinding forgets the schedule with the binding.
  schedule(kWeeknights);
  ASSERT_TRUE(service_.unbind("alice", id_, {}));
  EXPECT_TRUE(registry_.scheduled().empty());
  EXPECT_EQ(registry_.by_id(id_)->privacy_schedule, "");
}

}  // namespace
}  // namespace nj::device
