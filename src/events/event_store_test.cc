#include "events/event_store.h"

#include <gtest/gtest.h>

#include <set>

#include "events/test_bed.h"

namespace nj::events {
namespace {

std::string id_of(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%032x", i);
  return buf;
}

// A query for a person over some devices (fields set one by one: designated initializers
// would have to name every field under -Wextra).
EventQuery query(std::vector<std::string> devices, size_t limit = 100, std::string user = "u") {
  EventQuery q;
  q.user_id = std::move(user);
  q.device_ids = std::move(devices);
  q.limit = limit;
  return q;
}

Event event(int i, const std::string& device, Kind kind, int64_t start) {
  Event e;
  e.id = id_of(i);
  e.device_id = device;
  e.kind = kind;
  e.start_ms = start;
  e.end_ms = start + 1000;
  e.score = 0.5;
  return e;
}

TEST(EventStore, PagesNewestFirstWithoutLosingOrRepeatingAnEvent) {
  auto db = events_db();
  EventStore store(*db);
  // 25 events, some sharing a start time (the id breaks the tie), on two devices.
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(store.insert(event(i, i % 2 ? kDeviceA : kDeviceB, Kind::kMotion, 1000 * (i / 2))));
  }
  EventQuery q = query({kDeviceA, kDeviceB}, 10);
  std::vector<std::string> seen;
  for (int pages = 0; pages < 5; ++pages) {
    auto page = store.list(q);
    for (const auto& e : page.events) seen.push_back(e.id);
    if (!page.next) break;
    auto again = Cursor::parse(page.next->text());
    ASSERT_TRUE(again);
    q.before = *again;
  }
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_EQ(seen.front(), id_of(24));
  EXPECT_EQ(seen.back(), id_of(0));
  std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), 25u);

  // Only the devices asked for; kinds and times filter.
  auto only_a = store.list(query({kDeviceA}));
  EXPECT_EQ(only_a.events.size(), 12u);
  ASSERT_TRUE(store.insert(event(100, kDeviceA, Kind::kPerson, 5000)));
  EventQuery people_q = query({kDeviceA});
  people_q.kinds = {Kind::kPerson};
  auto people = store.list(people_q);
  ASSERT_EQ(people.events.size(), 1u);
  EXPECT_EQ(people.events[0].kind, Kind::kPerson);
  EventQuery window_q = query({kDeviceA, kDeviceB});
  window_q.from_ms = 2000;
  window_q.to_ms = 4000;
  auto window = store.list(window_q);
  EXPECT_EQ(window.events.size(), 4u);
  EXPECT_TRUE(store.list(query({})).events.empty());
}

TEST(EventStore, ReadStateIsEachPersonsOwn) {
  auto db = events_db();
  EventStore store(*db);
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(store.insert(event(i, kDeviceA, Kind::kMotion, i * 1000)));
  const std::vector<std::string> devices{kDeviceA};
  EXPECT_EQ(store.unread("alice", devices), 5);
  store.set_read("alice", id_of(4), true);
  EXPECT_EQ(store.unread("alice", devices), 4);
  EXPECT_EQ(store.unread("bob", devices), 5);
  EXPECT_TRUE(store.get(id_of(4), "alice")->read);
  EXPECT_FALSE(store.get(id_of(4), "bob")->read);
  // All read up to 2000, then one of those marked unread again.
  store.mark_all_read("alice", 2000);
  EXPECT_EQ(store.unread("alice", devices), 1);  // 3000 (4000 was read)
  store.set_read("alice", id_of(1), false);
  EXPECT_EQ(store.unread("alice", devices), 2);
  EventQuery unread_q = query(devices, 100, "alice");
  unread_q.unread_only = true;
  auto unread = store.list(unread_q);
  ASSERT_EQ(unread.events.size(), 2u);
  EXPECT_EQ(unread.events[0].id, id_of(3));
  EXPECT_EQ(unread.events[1].id, id_of(1));
  EXPECT_EQ(store.unread("alice", devices, 1), 1) << "counted up to the cap";
  store.forget_reader("alice");
  EXPECT_EQ(store.unread("alice", devices), 5);
}

TEST(EventStore, TimelineMarkersIncludeLongEventsThatBeganBefore) {
  auto db = events_db();
  EventStore store(*db);
  Event offline = event(1, kDeviceA, Kind::kOffline, 0);
  offline.end_ms = 50'000'000;
  ASSERT_TRUE(store.insert(offline));
  ASSERT_TRUE(store.insert(event(2, kDeviceA, Kind::kMotion, 40'000'000)));
  ASSERT_TRUE(store.insert(event(3, kDeviceA, Kind::kMotion, 10'000'000)));  // ended long before
  Event open = event(4, kDeviceA, Kind::kMotion, 39'999'000);
  open.end_ms.reset();
  ASSERT_TRUE(store.insert(open));
  auto markers = store.markers(kDeviceA, 39'999'500, 40'100'000, 100);
  ASSERT_EQ(markers.size(), 3u);
  EXPECT_EQ(markers[0].kind, Kind::kOffline);
  EXPECT_EQ(markers[1].id, id_of(4));
  EXPECT_EQ(markers[2].id, id_of(2));
  EXPECT_EQ(store.markers(kDeviceB, 0, 100'000'000, 100).size(), 0u);
}

TEST(EventStore, CursorsAreOnlyWhatThisStoreWrites) {
  for (const char* bad :
       {"", ".", "12", "12.", ".aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "x1.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "1.aaaa",
        "99999999999999999999.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "1.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'"}) {
    EXPECT_FALSE(Cursor::parse(bad)) << bad;
  }
  auto c = Cursor::parse("-5.0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->start_ms, -5);
}

TEST(EventStore, KindsByName) {
  for (Kind k : kAllKinds) EXPECT_EQ(parse_kind(kind_name(k)), k);
  EXPECT_FALSE(parse_kind("Motion"));
  EXPECT_TRUE(reported_by_camera(Kind::kPerson));
  EXPECT_FALSE(reported_by_camera(Kind::kOffline));
}

}  // namespace
}  // namespace nj::events
