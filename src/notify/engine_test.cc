#include "notify/engine.h"

#include <gtest/gtest.h>

#include "notify/arming.h"
#include "notify/in_app.h"
#include "store/migrations.h"
#include "store/test_postgres.h"

namespace nj::notify {
namespace {

const std::string kDevice(32, 'd');

class FakeChannel : public Channel {
 public:
  explicit FakeChannel(std::string_view purpose) : purpose_(purpose) {}
  std::string_view purpose() const override { return purpose_; }
  void deliver(const Notification& n) override { got.push_back(n); }
  std::vector<Notification> got;

 private:
  std::string_view purpose_;
};

class EngineTest : public ::testing::Test {
 protected:
  EngineTest()
      : db_(store::testing::open_test_database()),
        clock_(1'796'000'000'000),  // 2026-12-01 UTC
        prefs_(*db_),
        consents_(*db_, clock_),
        engine_(
            prefs_, consents_, zones_, clock_, [this](const std::string&) { return people_; },
            [](const std::string&) { return std::string("Garden"); },
            [](const std::string&) { return std::string("en"); }) {
    EXPECT_TRUE(store::migrate(*db_, store::builtin_migrations()));
    for (const char* id : {"alice", "bob", "vera"}) {
      const store::Value p[] = {std::string(id), std::string(id) + "@example.com"};
      EXPECT_TRUE(
          db_->execute("INSERT INTO users (id, email, password_hash, language, status, created_at) "
                       "VALUES ($1, $2, 'x', 'en', 'active', 0)",
                       p));
    }
    const store::Value d[] = {kDevice};
    EXPECT_TRUE(db_->execute(
        "INSERT INTO devices (id, serial, secret_hash, created_at) VALUES ($1, 'CAM', 'x', 0)", d));
    engine_.add_channel(&in_app_);
    engine_.add_channel(&push_);
    engine_.set_counter([this](std::string_view o) { ++counted_[std::string(o)]; });
  }
  events::Event event(events::Kind kind = events::Kind::kMotion) {
    events::Event e;
    e.id = "e" + std::to_string(++n_);
    e.device_id = kDevice;
    e.kind = kind;
    e.start_ms = clock_.now_ms();
    return e;
  }
  void consent(const std::string& user, std::string_view purpose, bool yes) {
    ASSERT_TRUE(consents_.record(user, purpose, yes, "2026-11", "app"));
  }

  std::unique_ptr<store::Database> db_;
  ManualClock clock_;
  TimeZones zones_;
  Preferences prefs_;
  privacy::ConsentLedger consents_;
  std::vector<std::pair<std::string, device::Role>> people_ = {{"alice", device::Role::kOwner}};
  NotificationEngine engine_;
  FakeChannel in_app_{privacy::kNotifyInApp};
  FakeChannel push_{privacy::kNotifyPush};
  std::map<std::string, int> counted_;
  int n_ = 0;
};

TEST_F(EngineTest, NothingWithoutConsentAndAWithdrawalHoldsForTheNextEvent) {
  engine_.on_event(event());
  EXPECT_TRUE(in_app_.got.empty());
  EXPECT_TRUE(push_.got.empty());
  EXPECT_EQ(counted_["no_consent"], 1);

  // Given a moment later: the next event is told at once (what nobody was told of starts no
  // cooldown).
  consent("alice", privacy::kNotifyInApp, true);
  clock_.advance_ms(1000);
  engine_.on_event(event());
  ASSERT_EQ(in_app_.got.size(), 1u);
  EXPECT_TRUE(push_.got.empty()) << "each channel needs its own consent";
  EXPECT_EQ(in_app_.got[0].user_id, "alice");
  EXPECT_EQ(in_app_.got[0].device_name, "Garden");
  EXPECT_EQ(in_app_.got[0].grouped, 0);

  consent("alice", privacy::kNotifyInApp, false);  // withdrawn, without the clock moving
  clock_.advance_ms(120'000);
  engine_.on_event(event());
  EXPECT_EQ(in_app_.got.size(), 1u);
  // The ledger keeps both, in order.
  const auto history = consents_.history("alice");
  ASSERT_EQ(history.size(), 2u);
  EXPECT_TRUE(history[0].granted);
  EXPECT_FALSE(history[1].granted);
  EXPECT_EQ(history[1].policy_version, "2026-11");
  EXPECT_FALSE(consents_.record("alice", "advertising.sold", true, "2026-11", "app"));
}

TEST_F(EngineTest, ModesSnoozesKindsAndQuietHoursEachKeepQuiet) {
  consent("alice", privacy::kNotifyInApp, true);
  const auto sent = [&] {
    const size_t before = in_app_.got.size();
    clock_.advance_ms(3'600'000);  // past any cooldown
    engine_.on_event(event());
    return in_app_.got.size() > before;
  };
  EXPECT_TRUE(sent());

  Settings s;
  s.mode = Mode::kDisarmed;
  ASSERT_TRUE(prefs_.save("alice", s));
  EXPECT_FALSE(sent());
  // Home mode: cameras notify only if switched on for Home.
  s.mode = Mode::kHome;
  ASSERT_TRUE(prefs_.save("alice", s));
  EXPECT_FALSE(sent());
  CameraPrefs c;
  c.home = true;
  ASSERT_TRUE(prefs_.save_camera("alice", kDevice, c));
  EXPECT_TRUE(sent());
  // Snoozed for 30 minutes: quiet until then.
  c.snooze_until_ms = clock_.now_ms() + 3'600'000 + 1'800'000;
  ASSERT_TRUE(prefs_.save_camera("alice", kDevice, c));
  EXPECT_FALSE(sent());
  EXPECT_TRUE(sent()) << "the snooze has ended";
  // A kind they did not ask for.
  s.kinds = {events::Kind::kPerson};
  ASSERT_TRUE(prefs_.save("alice", s));
  EXPECT_FALSE(sent());
  s.kinds = default_kinds();
  // Quiet hours all day in UTC (two windows that join).
  s.quiet_hours =
      R"({"enabled":true,"time_zone":"UTC","windows":[)"
      R"({"days":["mon","tue","wed","thu","fri","sat","sun"],"start":"00:00","end":"12:00"},)"
      R"({"days":["mon","tue","wed","thu","fri","sat","sun"],"start":"12:00","end":"00:00"}]})";
  ASSERT_TRUE(prefs_.save("alice", s));
  EXPECT_FALSE(sent());
  EXPECT_GE(counted_["disarmed"], 1);
  EXPECT_GE(counted_["camera_off"], 1);
  EXPECT_GE(counted_["snoozed"], 1);
  EXPECT_GE(counted_["kind_off"], 1);
  EXPECT_GE(counted_["quiet_hours"], 1);
}

TEST_F(EngineTest, ABusySceneSendsOneNowAndOneSummary) {
  consent("alice", privacy::kNotifyInApp, true);
  for (int i = 0; i < 100; ++i) {
    engine_.on_event(event());
    clock_.advance_ms(100);
  }
  ASSERT_EQ(in_app_.got.size(), 1u);
  engine_.tick();
  EXPECT_EQ(in_app_.got.size(), 1u) << "the cooldown (60 s) has not ended";
  clock_.advance_ms(60'000);
  engine_.tick();
  ASSERT_EQ(in_app_.got.size(), 2u);
  EXPECT_EQ(in_app_.got[1].grouped, 99);
  EXPECT_EQ(in_app_.got[1].event_id, "e100");
  clock_.advance_ms(60'000);
  engine_.tick();
  EXPECT_EQ(in_app_.got.size(), 2u) << "nothing more to say";
  // Another kind is its own group.
  engine_.on_event(event(events::Kind::kPerson));
  EXPECT_EQ(in_app_.got.size(), 3u);
}

TEST_F(EngineTest, FamilyIsToldViewersAreNot) {
  people_ = {{"alice", device::Role::kOwner},
             {"bob", device::Role::kFamily},
             {"vera", device::Role::kViewer}};
  for (const char* u : {"alice", "bob", "vera"}) consent(u, privacy::kNotifyInApp, true);
  engine_.on_event(event());
  ASSERT_EQ(in_app_.got.size(), 2u);
  EXPECT_EQ(in_app_.got[0].user_id, "alice");
  EXPECT_EQ(in_app_.got[1].user_id, "bob");
}

TEST(InAppChannel, ReachesEveryTabOfThePersonAndDropsThoseGone) {
  InAppChannel channel;
  std::vector<std::string> a1, a2, b;
  const auto a1_id = channel.connect("alice", [&](const std::string& m) {
    a1.push_back(m);
    return true;
  });
  channel.connect("alice", [&](const std::string& m) {
    a2.push_back(m);
    return false;  // closed
  });
  channel.connect("bob", [&](const std::string& m) {
    b.push_back(m);
    return true;
  });
  Notification n;
  n.user_id = "alice";
  n.event_id = "abc";
  n.kind = events::Kind::kPerson;
  channel.deliver(n);
  channel.deliver(n);
  EXPECT_EQ(a1.size(), 2u);
  EXPECT_EQ(a2.size(), 1u) << "dropped after its send failed";
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(channel.connections(), 2u);
  auto j = nlohmann::json::parse(a1[0]);
  EXPECT_EQ(j["kind"], "person");
  EXPECT_EQ(j["snapshot"], "/api/v1/events/abc/snapshot.jpg");
  channel.disconnect(a1_id);
  EXPECT_EQ(channel.connections(), 1u);
}

}  // namespace
}  // namespace nj::notify

namespace nj::notify {
namespace {

// Home from 22:00 to 07:00 in Berlin, Away otherwise; each edge once, the one tap between.
TEST_F(EngineTest, TheModeFollowsItsScheduleAtEachEdgeAndAOneTapHoldsBetween) {
  const int64_t day = days_from_civil(2026, 12, 1) * 86'400'000;  // a Tuesday, UTC
  const auto at = [day](int hour, int minute) {
    return day + (int64_t{hour} * 60 + minute) * 60'000;
  };
  ArmingScheduler arming(prefs_, zones_, clock_);
  clock_.set_ms(at(12, 0));  // 13:00 in Berlin
  auto schedule = read_arming_schedule(nlohmann::json::parse(
      R"({"time_zone":"Europe/Berlin","in":"home","out":"away","windows":[)"
      R"({"days":["mon","tue","wed","thu","fri","sat","sun"],"start":"22:00","end":"07:00"}]})"));
  ASSERT_TRUE(schedule);
  EXPECT_FALSE(read_arming_schedule(
      nlohmann::json::parse(R"({"time_zone":"UTC","in":"party","windows":[]})")));
  const auto mode = [this] { return prefs_.settings("alice").mode; };
  auto s = prefs_.settings("alice");
  s.mode = Mode::kDisarmed;
  s.arming_schedule = to_json(*schedule).dump();
  ASSERT_TRUE(prefs_.save("alice", s));
  EXPECT_EQ(arming.tick(), 0u) << "saved outside its hours: nothing until the first edge";
  EXPECT_EQ(mode(), Mode::kDisarmed);
  const auto next = next_arming_change(*schedule, *zones_.find("Europe/Berlin"), clock_.now_ms());
  ASSERT_TRUE(next);
  EXPECT_EQ(next->at_ms, at(21, 0));
  EXPECT_EQ(next->mode, Mode::kHome);

  clock_.set_ms(at(21, 0) + 5000);  // 22:00:05 in Berlin
  EXPECT_EQ(arming.tick(), 1u);
  EXPECT_EQ(mode(), Mode::kHome);
  EXPECT_EQ(arming.tick(), 0u) << "each edge once";
  // A tap in between holds until the next edge.
  s = prefs_.settings("alice");
  s.mode = Mode::kDisarmed;
  ASSERT_TRUE(prefs_.save("alice", s));
  clock_.set_ms(at(23, 0));
  EXPECT_EQ(arming.tick(), 0u);
  EXPECT_EQ(mode(), Mode::kDisarmed);
  clock_.set_ms(at(24 + 6, 0) + 5000);  // 07:00:05 in Berlin the next morning
  EXPECT_EQ(arming.tick(), 1u);
  EXPECT_EQ(mode(), Mode::kAway);
  // Taken away: the mode stays as it is.
  s = prefs_.settings("alice");
  s.arming_schedule.clear();
  ASSERT_TRUE(prefs_.save("alice", s));
  clock_.set_ms(at(24 + 21, 0) + 5000);
  EXPECT_EQ(arming.tick(), 0u);
  EXPECT_EQ(mode(), Mode::kAway);
}

}  // namespace
}  // namespace nj::notify
