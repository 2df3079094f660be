// Event pictures in a region's object store (issue #17): what one node writes, another node
// reads (its own SnapshotFiles on the same bucket); sealed there as on disk; written again, a
// picture replaces the old one; removing a camera's pictures leaves another's. On files and,
// as "s3.…", on a real S3 (Ceph's RADOS Gateway).
#include "events/snapshot_files.h"

#include <gtest/gtest.h>

#include "recording/test_files.h"
#include "recording/test_store.h"

namespace nj::events {
namespace {

const std::string kDeviceA = "0a1b2c3d-0000-4000-8000-00000000000a";
const std::string kDeviceB = "0a1b2c3d-0000-4000-8000-00000000000b";
const std::string kEvent1 = "e0000000-0000-4000-8000-000000000001";
const std::string kEvent2 = "e0000000-0000-4000-8000-000000000002";

std::optional<keys::Key> key_of(std::string_view device_id, bool) {
  keys::Key k{};
  k.fill(device_id == kDeviceA ? 0x11 : 0x22);
  return k;
}

std::string text(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

TEST(SnapshotFilesOnStore, WhatOneNodeWritesAnotherReadsSealedAndRemovesByCamera) {
  const auto dir = recording::testing::fresh_dir("pictures");
  const auto prefix = recording::testing::fresh_prefix();
  // Two nodes: each its own client of the same bucket and prefix (or the same directory).
  auto store_a = recording::testing::open_test_store(dir, prefix);
  auto store_b = recording::testing::open_test_store(dir, prefix);
  SnapshotFiles node_a(dir / "unused-a", key_of), node_b(dir / "unused-b", key_of);
  node_a.set_store_for([&](std::string_view) { return store_a.get(); });
  node_b.set_store_for([&](std::string_view) { return store_b.get(); });

  const std::string jpeg = "\xff\xd8 a person at the door \xff\xd9";
  ASSERT_TRUE(node_a.write(kDeviceA, kEvent1, jpeg));
  ASSERT_TRUE(node_a.write(kDeviceA, kEvent2, "\xff\xd8 two \xff\xd9"));
  ASSERT_TRUE(node_a.write(kDeviceB, kEvent1, "\xff\xd8 another camera \xff\xd9"));
  EXPECT_EQ(node_b.read(kDeviceA, kEvent1).value_or(""), jpeg) << "another node shows it";
  EXPECT_FALSE(std::filesystem::exists(dir / "unused-a")) << "nothing in the node's own files";

  // In the store it is sealed: not the picture, and not readable under another key.
  const std::string key = kDeviceA + "/" + kEvent1 + ".jpg";
  const auto stored = store_b->get(key);
  ASSERT_TRUE(stored);
  EXPECT_EQ(text(*stored).find("a person at the door"), std::string::npos);
  SnapshotFiles wrong_key(
      dir, [](std::string_view, bool) -> std::optional<keys::Key> { return keys::Key{}; });
  wrong_key.set_store_for([&](std::string_view) { return store_b.get(); });
  EXPECT_FALSE(wrong_key.read(kDeviceA, kEvent1));

  // Written again: the new picture, not the old one with the new after it.
  ASSERT_TRUE(node_b.write(kDeviceA, kEvent1, "\xff\xd8 again \xff\xd9"));
  EXPECT_EQ(node_a.read(kDeviceA, kEvent1).value_or(""), std::string("\xff\xd8 again \xff\xd9"));

  node_b.remove(kDeviceA, kEvent2);
  EXPECT_FALSE(node_a.read(kDeviceA, kEvent2));
  node_a.remove_device(kDeviceA);
  EXPECT_FALSE(node_b.read(kDeviceA, kEvent1));
  EXPECT_EQ(node_b.read(kDeviceB, kEvent1).value_or(""),
            std::string("\xff\xd8 another camera \xff\xd9"));
  // Ids are the server's own: anything else is refused before a key is made.
  EXPECT_FALSE(node_a.write("../" + kDeviceB, kEvent1, jpeg));
  EXPECT_FALSE(node_a.read(kDeviceB, "../../x"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nj::events
