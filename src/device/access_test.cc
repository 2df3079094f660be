// Stream tokens as rights (StreamAccess) and the end of open connections (AccessWatch).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "device/access_watch.h"
#include "device/binding_sweep.h"
#include "device/stream_access.h"
#include "device/test_bed.h"

namespace nj::device {
namespace {

class StreamAccessTest : public DeviceTestBed {
 protected:
  StreamAccessTest()
      : tokens_(std::vector<uint8_t>(32, 9), clock_), access_(tokens_, registry_, service_) {
    EXPECT_TRUE(registry_.add({"CAM-1", "NJ-C1", "", "", "", "", ""}));
  }
  Device bind_to(const std::string& user) {
    auto t = service_.create_bind_token(user);
    auto d = service_.claim("CAM-1", t->token);
    EXPECT_TRUE(d);
    return *d;
  }
  std::string id() { return registry_.by_serial("CAM-1")->id; }
  bool plays(const std::string& token) {
    return bool(access_.check(token, "CAM-1", StreamPurpose::kPlay));
  }

  StreamTokens tokens_;
  StreamAccess access_;
};

TEST_F(StreamAccessTest, APlayTokenLastsOnlyAsLongAsThePersonsShare) {
  const auto cam = bind_to("alice");
  auto share = service_.share("alice", cam.id, "bob@example.com", Role::kViewer);
  ASSERT_TRUE(service_.accept("bob", share->id));
  const auto bobs = access_.for_person(cam, "bob", StreamPurpose::kPlay, 600'000);
  auto holder = access_.check(bobs, "CAM-1", StreamPurpose::kPlay);
  ASSERT_TRUE(holder) << holder.error();
  EXPECT_EQ(holder->subject, "bob");
  EXPECT_EQ(holder->role, Role::kViewer);
  EXPECT_FALSE(access_.check(bobs, "CAM-1", StreamPurpose::kPush)) << "a person cannot push";
  ASSERT_TRUE(service_.revoke("alice", cam.id, share->id, {}));
  EXPECT_FALSE(plays(bobs)) << "revoked: the token is dead at once";
}

TEST_F(StreamAccessTest, TokensOfALastOwnerNeverOpenTheNextOwnersCamera) {
  const auto first = bind_to("alice");
  const auto alices = access_.for_person(first, "alice", StreamPurpose::kPlay, 600'000);
  const auto device_push = access_.for_device("CAM-1", StreamPurpose::kPush, 600'000);
  const auto op =
      operator_token(tokens_, "CAM-1", StreamPurpose::kPlay, first.binding_generation, 600'000);
  EXPECT_TRUE(plays(alices));
  EXPECT_TRUE(plays(op));
  EXPECT_TRUE(access_.check(device_push, "CAM-1", StreamPurpose::kPush));
  ASSERT_TRUE(service_.unbind("alice", id(), {}));
  EXPECT_FALSE(plays(alices)) << "unbound";
  // Bound again, by someone else; then even alice's role would not matter: the binding did.
  const auto second = bind_to("carol");
  EXPECT_GT(second.binding_generation, first.binding_generation);
  EXPECT_FALSE(plays(alices));
  EXPECT_FALSE(plays(op)) << "an operator's token is for the binding it was minted under";
  EXPECT_FALSE(access_.check(device_push, "CAM-1", StreamPurpose::kPush));
  EXPECT_TRUE(plays(access_.for_person(second, "carol", StreamPurpose::kPlay, 600'000)));
  EXPECT_FALSE(plays(access_.for_person(second, "alice", StreamPurpose::kPlay, 600'000)))
      << "minted for someone with no role: refused on use";
  EXPECT_FALSE(access_.check(access_.for_device("CAM-1", StreamPurpose::kPush, 1000), "CAM-1",
                             StreamPurpose::kPlay))
      << "a device's token does not play";
}

TEST_F(StreamAccessTest, UnregisteredStreamsAreTheOperatorsOnly) {
  const auto op = operator_token(tokens_, "RELAY-9", StreamPurpose::kPush, 0, 1000);
  EXPECT_TRUE(access_.check(op, "RELAY-9", StreamPurpose::kPush));
  EXPECT_FALSE(access_.check(tokens_.issue("RELAY-9", StreamPurpose::kPlay, "alice", 0, 1000),
                             "RELAY-9", StreamPurpose::kPlay));
  clock_.advance_ms(1000);
  EXPECT_FALSE(access_.check(op, "RELAY-9", StreamPurpose::kPush)) << "expired";
}

// An operator unbinds the camera in another process: the server's sweep notices within a
// tick, closes what was opened under the old binding and runs the unbind's effects.
TEST_F(StreamAccessTest, ABindingChangedElsewhereIsNoticedAndEndedHere) {
  const auto cam = bind_to("alice");
  AccessWatch watch;
  std::vector<std::string> unbound;
  BindingSweep sweep(registry_, watch, [&](const std::string& s) { unbound.push_back(s); });
  EXPECT_EQ(sweep.tick(), 0u) << "the first tick learns";
  int closed = 0;
  auto viewer = watch.hold("CAM-1", "alice", cam.binding_generation, [&] { ++closed; });
  EXPECT_EQ(sweep.tick(), 0u);
  // As `nightjar admin device unbind` does, through its own service on the same database.
  DeviceService elsewhere(*db_, registry_, clock_);
  ASSERT_TRUE(elsewhere.unbind("alice", cam.id, {}));
  EXPECT_EQ(sweep.tick(), 1u);
  EXPECT_EQ(closed, 1);
  EXPECT_EQ(unbound, std::vector<std::string>{"CAM-1"});
  // Bound again: nothing is unbound, but what was held under the old binding would end.
  auto stale = watch.hold("CAM-1", "alice", cam.binding_generation, [&] { ++closed; });
  bind_to("carol");
  EXPECT_EQ(sweep.tick(), 1u);
  EXPECT_EQ(closed, 2);
  EXPECT_EQ(unbound.size(), 1u);
  EXPECT_EQ(sweep.tick(), 0u);
}

TEST(AccessWatch, EndsWhatWasHeldBySerialSubjectOrBoth) {
  AccessWatch watch;
  int a1 = 0, a2 = 0, b1 = 0;
  auto h1 = watch.hold("CAM-1", "alice", 1, [&] { ++a1; });
  auto h2 = watch.hold("CAM-2", "alice", 1, [&] { ++a2; });
  auto h3 = watch.hold("CAM-1", "bob", 1, [&] { ++b1; });
  EXPECT_EQ(watch.open(), 3u);
  EXPECT_EQ(watch.end_for("CAM-1", "bob"), 1u);
  EXPECT_EQ(b1, 1);
  EXPECT_EQ(a1 + a2, 0);
  EXPECT_EQ(watch.end_for("CAM-1", "bob"), 0u) << "once";
  EXPECT_EQ(watch.end_subject("alice"), 2u);
  EXPECT_EQ(a1 + a2, 2);
  auto h4 = watch.hold("CAM-1", "device", 1, [&] { ++a1; });
  h4.reset();
  EXPECT_EQ(watch.end_device("CAM-1"), 0u) << "a closed connection is not ended";
  auto h5 = watch.hold("CAM-1", "carol", 1, [&] { ++b1; });
  EXPECT_EQ(watch.end_device("CAM-1"), 1u);
  EXPECT_EQ(watch.open(), 0u);
  // A binding changed elsewhere: what was given under the earlier one ends, nothing newer.
  int old_binding = 0, new_binding = 0;
  auto h6 = watch.hold("CAM-1", "dave", 3, [&] { ++old_binding; });
  auto h7 = watch.hold("CAM-1", "erin", 4, [&] { ++new_binding; });
  EXPECT_EQ(watch.end_older("CAM-1", 4), 1u);
  EXPECT_EQ(old_binding, 1);
  EXPECT_EQ(new_binding, 0);
}

TEST(AccessWatch, AnEndMayDestroyItsOwnHoldAndAClosingHoldWaitsForItsEnd) {
  AccessWatch watch;
  // The owner of the Hold dies inside its own `end` (its last reference was there).
  std::unique_ptr<AccessWatch::Hold> self;
  self = watch.hold("CAM-1", "alice", 1, [&] { self.reset(); });
  EXPECT_EQ(watch.end_subject("alice"), 1u);
  EXPECT_FALSE(self);
  // A Hold closed on another thread while its `end` runs waits for it to finish.
  std::atomic<bool> in_end{false}, finished{false};
  auto held = watch.hold("CAM-1", "bob", 1, [&] {
    in_end = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    finished = true;
  });
  std::thread ender([&] { watch.end_device("CAM-1"); });
  while (!in_end) std::this_thread::yield();
  held.reset();
  EXPECT_TRUE(finished) << "the Hold outlived its end";
  ender.join();
}

}  // namespace
}  // namespace nj::device
