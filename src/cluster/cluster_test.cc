// Liveness, leases and rendezvous hashing, on SQLite and (as postgres.…) on PostgreSQL.
#include "cluster/cluster.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "store/migrations.h"
#include "store/test_postgres.h"

namespace nj::cluster {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<store::Database> migrated() {
  auto db = store::testing::open_test_database();
  EXPECT_TRUE(store::migrate(*db, store::builtin_migrations()));
  return db;
}

TEST(Leases, OneHolderAtATimeAndTakenOverOnceExpired) {
  auto db = migrated();
  Leases a(*db, "node-a", 300ms), b(*db, "node-b", 300ms);
  EXPECT_TRUE(a.hold("reaper"));
  EXPECT_FALSE(b.hold("reaper")) << "held by a";
  EXPECT_TRUE(b.hold("exports")) << "another lease is free";
  std::this_thread::sleep_for(150ms);
  EXPECT_TRUE(a.hold("reaper")) << "renewed";
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(b.hold("reaper")) << "the renewal holds it past the first term";
  std::this_thread::sleep_for(400ms);  // a stops renewing: it expires
  EXPECT_TRUE(b.hold("reaper"));
  EXPECT_FALSE(a.hold("reaper")) << "taken over";
  b.release("reaper");
  EXPECT_TRUE(a.hold("reaper")) << "released: free at once";
}

TEST(Nodes, AliveWhileTheyBeatAndGoneOnceSilentOrLeft) {
  auto db = migrated();
  Nodes a(*db, {"a", "http://127.0.0.1:1", "rtsp://127.0.0.1:2", 0, 0, 0}, 400ms);
  Nodes b(*db, {"b", "http://127.0.0.1:3", "rtsp://127.0.0.1:4", 0, 0, 0}, 400ms);
  ASSERT_TRUE(a.beat());
  ASSERT_TRUE(b.beat());
  auto alive = a.alive();
  ASSERT_EQ(alive.size(), 2u);
  EXPECT_EQ(alive[1].id, "b");
  EXPECT_EQ(alive[1].rtsp_url, "rtsp://127.0.0.1:4");
  EXPECT_GT(alive[0].heartbeat_ms, 1'600'000'000'000) << "the database's clock, in ms";
  std::this_thread::sleep_for(600ms);
  ASSERT_TRUE(b.beat());  // a has gone silent
  alive = b.alive();
  ASSERT_EQ(alive.size(), 1u);
  EXPECT_EQ(alive[0].id, "b");
  b.leave();
  EXPECT_TRUE(a.alive().empty());
}

// The fencing epoch: a list that does not have a node yet was read before that node's own
// first list, so a node placing cameras by it carries the smaller epoch.
TEST(Nodes, AListWithoutANodeIsOlderThanThatNodesFirstList) {
  auto db = migrated();
  Nodes a(*db, {"a", "http://127.0.0.1:1", "rtsp://127.0.0.1:2", 0, 0, 0}, 5s);
  Nodes b(*db, {"b", "http://127.0.0.1:3", "rtsp://127.0.0.1:4", 0, 0, 0}, 5s);
  ASSERT_TRUE(a.beat());
  Placement on_a("a"), on_b("b");
  EXPECT_EQ(on_a.epoch(), 0) << "before the first list";
  ASSERT_TRUE(on_a.update(a.alive()));
  const int64_t stale = on_a.epoch();
  EXPECT_GT(stale, int64_t{1'600'000'000'000'000}) << "the database's clock, in µs";
  std::this_thread::sleep_for(2ms);  // SQLite's clock counts milliseconds
  ASSERT_TRUE(b.beat());
  ASSERT_TRUE(on_b.update(b.alive()));
  EXPECT_GT(on_b.epoch(), stale);
  EXPECT_EQ(on_b.elsewhere("CAM-1").has_value(), owner_of("CAM-1", {"a", "b"}) == "a");
  // Every list read confirms the view again, changed or not.
  std::this_thread::sleep_for(2ms);
  EXPECT_TRUE(on_a.update(a.alive()));
  EXPECT_GT(on_a.epoch(), on_b.epoch());
  const int64_t confirmed = on_a.epoch();
  std::this_thread::sleep_for(2ms);
  EXPECT_FALSE(on_a.update(a.alive()));
  EXPECT_GT(on_a.epoch(), confirmed);
}

TEST(Rendezvous, EveryNodeAgreesTheShareIsEvenAndALostNodeMovesOnlyItsOwn) {
  const std::vector<std::string> three = {"node-a", "node-b", "node-c"};
  std::map<std::string, std::string> home;
  std::map<std::string, int> count;
  for (int i = 0; i < 3000; ++i) {
    const std::string serial = "CAM-" + std::to_string(i);
    home[serial] = owner_of(serial, three);
    ++count[home[serial]];
    EXPECT_EQ(owner_of(serial, {"node-c", "node-a", "node-b"}), home[serial]) << "order-free";
  }
  for (const auto& id : three) {
    EXPECT_GT(count[id], 850) << id;
    EXPECT_LT(count[id], 1150) << id;
  }
  const std::vector<std::string> two = {"node-a", "node-c"};
  for (const auto& [serial, node] : home) {
    const auto now = owner_of(serial, two);
    if (node != "node-b") {
      EXPECT_EQ(now, node) << serial << " moved without need";
    }
    EXPECT_NE(now, "node-b");
  }
  EXPECT_EQ(owner_of("CAM-1", {}), "");
}

// Each node's view: alone (or before any heartbeat) every camera is its own; with others, the
// cameras rendezvous hashing gives them are theirs, with their RTSP address to pull from; a
// list that could not be read moves nothing.
TEST(Placement, ACameraIsHereOrOnTheNodeItHashesTo) {
  Placement a("node-a");
  EXPECT_TRUE(a.here("CAM-1")) << "before the first heartbeat";
  const Node na{"node-a", "http://a", "rtsp://a", 0, 0, 0},
      nb{"node-b", "http://b", "rtsp://b", 0, 0, 0};
  EXPECT_TRUE(a.update({na}));
  EXPECT_FALSE(a.update({na})) << "the same nodes: no change";
  EXPECT_TRUE(a.here("CAM-1"));
  EXPECT_TRUE(a.update({na, nb}));
  int here = 0, there = 0;
  for (int i = 0; i < 200; ++i) {
    const std::string serial = "CAM-" + std::to_string(i);
    const auto other = a.elsewhere(serial);
    EXPECT_EQ(other.has_value(), owner_of(serial, {"node-a", "node-b"}) == "node-b") << serial;
    if (other) {
      EXPECT_EQ(other->rtsp_url, "rtsp://b");
      ++there;
    } else {
      ++here;
    }
  }
  EXPECT_GT(here, 50);
  EXPECT_GT(there, 50);
  EXPECT_FALSE(a.update({})) << "an unread list changes nothing";
  EXPECT_EQ(a.elsewhere("CAM-7").has_value(), owner_of("CAM-7", {"node-a", "node-b"}) == "node-b");
  const Node moved{"node-b", "http://b2", "rtsp://b2", 0, 0, 0};
  EXPECT_TRUE(a.update({na, moved})) << "node B came back on other ports";
  EXPECT_TRUE(a.update({na}));
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(a.here("CAM-" + std::to_string(i)));
}

}  // namespace
}  // namespace nj::cluster
