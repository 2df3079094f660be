// What every media store promises the recorder, playback and the reaper (recording/store.h),
// on files and, as "s3.…", on a real S3 (Ceph's RADOS Gateway).
#include "recording/store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "recording/s3_store.h"
#include "recording/test_files.h"
#include "recording/test_store.h"

namespace nj::recording {
namespace {

std::vector<uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string text(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

TEST(StoreContract, AppendsReadBackAcrossWhatEachAppendWrote) {
  const auto dir = testing::fresh_dir("store-append");
  auto store = testing::open_test_store(dir);
  const std::string key = "eu/CAM-1/2026-12-05/1000-1.mp4";
  ASSERT_TRUE(store->append(key, bytes("init:"), false));
  ASSERT_TRUE(store->append(key, bytes("fragment-one;"), true));
  ASSERT_TRUE(store->append(key, bytes("fragment-two;"), false));
  EXPECT_EQ(*store->size(key), 31u);
  EXPECT_EQ(text(*store->read(key, 0, 31)), "init:fragment-one;fragment-two;");
  EXPECT_EQ(text(*store->read(key, 3, 10)), "t:fragment") << "a range across two appends";
  EXPECT_EQ(text(*store->read(key, 20, 100)), "agment-two;") << "short at the end, as a file";
  store->close(key);
  ASSERT_TRUE(store->append(key, bytes("three"), false)) << "appends go on after close";
  EXPECT_EQ(*store->size(key), 36u);
  std::filesystem::remove_all(dir);
}

TEST(StoreContract, TruncateCutsWithinAnAppendAndAtItsEdge) {
  const auto dir = testing::fresh_dir("store-truncate");
  auto store = testing::open_test_store(dir);
  const std::string key = "eu/CAM-1/2026-12-05/2000-2.mp4";
  for (const char* part : {"aaaa", "bbbb", "cccc"})
    ASSERT_TRUE(store->append(key, bytes(part), false));
  ASSERT_TRUE(store->truncate(key, 6));  // within the second
  EXPECT_EQ(*store->size(key), 6u);
  EXPECT_EQ(text(*store->read(key, 0, 12)), "aaaabb");
  ASSERT_TRUE(store->append(key, bytes("dd"), false));
  EXPECT_EQ(text(*store->read(key, 0, 12)), "aaaabbdd");
  ASSERT_TRUE(store->truncate(key, 4));  // at an edge
  EXPECT_EQ(text(*store->read(key, 0, 12)), "aaaa");
  std::filesystem::remove_all(dir);
}

TEST(StoreContract, ListFindsEveryFileUnderAPrefixAndRemoveTakesAllOfOne) {
  const auto dir = testing::fresh_dir("store-list");
  auto store = testing::open_test_store(dir);
  const std::string a = "eu/CAM-1/2026-12-05/1-1.mp4", b = "eu/CAM-1/2026-12-06/2-2.mp4",
                    other = "eu/CAM-2/2026-12-05/3-3.mp4";
  for (const auto& k : {a, b, other}) {
    ASSERT_TRUE(store->append(k, bytes("x"), false));
    ASSERT_TRUE(store->append(k, bytes("y"), false));
  }
  auto listed = store->list("eu/CAM-1/");
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(listed, (std::vector<std::string>{a, b}));
  EXPECT_TRUE(store->remove(a));
  EXPECT_FALSE(store->size(a)) << "no such file any more";
  EXPECT_FALSE(store->remove(a)) << "nothing left to remove";
  EXPECT_EQ(store->list("eu/CAM-1/"), (std::vector<std::string>{b}));
  EXPECT_EQ(text(*store->read(other, 0, 2)), "xy");
  std::filesystem::remove_all(dir);
}

TEST(StoreContract, WhatIsNotThereOrNotOursIsAClearError) {
  const auto dir = testing::fresh_dir("store-missing");
  auto store = testing::open_test_store(dir);
  // Not there: said so (kNoFile), as against a store that cannot be reached.
  const auto size = store->size("eu/CAM-1/2026-12-05/9-9.mp4");
  ASSERT_FALSE(size);
  EXPECT_TRUE(size.error().starts_with(kNoFile)) << size.error();
  const auto read = store->read("eu/CAM-1/2026-12-05/9-9.mp4", 0, 4);
  ASSERT_FALSE(read);
  EXPECT_TRUE(read.error().starts_with(kNoFile)) << read.error();
  EXPECT_FALSE(store->append("../escape.mp4", bytes("x"), false));
  EXPECT_FALSE(store->read("/etc/passwd", 0, 4));
  EXPECT_GT(store->free_bytes(), 0u);
  std::filesystem::remove_all(dir);
}

// Another node reading what this one records: it sees each append made after it first
// looked, and the file as it is after a cut.
TEST(StoreContract, AnotherNodeReadsWhatIsWrittenAsItGrows) {
  if (!testing::on_s3()) GTEST_SKIP() << "one node's files";
  const auto dir = testing::fresh_dir("store-nodes");
  const std::string prefix = testing::fresh_prefix();
  auto writer = testing::open_test_store(dir, prefix);
  auto reader = testing::open_test_store(dir, prefix);
  const std::string key = "eu/CAM-1/2026-12-05/5-5.mp4";
  ASSERT_TRUE(writer->append(key, bytes("one;"), false));
  EXPECT_EQ(text(*reader->read(key, 0, 4)), "one;");
  ASSERT_TRUE(writer->append(key, bytes("two;"), false));
  EXPECT_EQ(text(*reader->read(key, 0, 8)), "one;two;");
  EXPECT_TRUE(reader->remove(key));
  EXPECT_FALSE(writer->remove(key));
}

// A clip's planning reads a fragment in a dozen small pieces (record headers, moofs): on S3
// the part is fetched once (the next ones with it), and a part written again after a cut is
// never read stale.
TEST(StoreContract, SmallReadsOfOnePartFetchItOnceAndACutIsNeverReadStale) {
  if (!testing::on_s3()) GTEST_SKIP() << "requests to a bucket";
  auto client = std::make_shared<s3::Client>(testing::test_s3_config());
  S3Store store(client, testing::fresh_prefix());
  const std::string key = "eu/CAM-1/2026-12-06/6-6.mp4";
  ASSERT_TRUE(store.append(key, bytes("aaaa;"), false));
  ASSERT_TRUE(store.append(key, bytes("bbbbbbbbbb;"), false));
  ASSERT_TRUE(store.append(key, bytes("cccc;"), false));
  const auto before = client->requests();
  for (uint64_t at = 5; at < 15; ++at) EXPECT_EQ(text(*store.read(key, at, 1)), "b");
  EXPECT_EQ(text(*store.read(key, 3, 4)), "a;bb");   // across two parts
  EXPECT_EQ(text(*store.read(key, 16, 4)), "cccc");  // fetched ahead with the second
  const auto after = client->requests();
  EXPECT_EQ(after.gets - before.gets, 3u) << "each part once";
  EXPECT_EQ(after.lists, before.lists);

  // Cut inside the second part, then written on from the cut with other bytes.
  ASSERT_TRUE(store.truncate(key, 8));
  ASSERT_TRUE(store.append(key, bytes("XYZ"), false));
  EXPECT_EQ(text(*store.read(key, 5, 6)), "bbbXYZ");
  ASSERT_TRUE(store.truncate(key, 5));  // at the second part's start: it is gone
  ASSERT_TRUE(store.append(key, bytes("dd"), false));
  EXPECT_EQ(text(*store.read(key, 4, 3)), ";dd");
  EXPECT_TRUE(store.remove(key));
}

// How many of a file's pages are in the page cache.
size_t cached_pages(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  const auto size = static_cast<size_t>(::lseek(fd, 0, SEEK_END));
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return 0;
  const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> in((size + page - 1) / page);
  size_t n = 0;
  if (::mincore(map, size, in.data()) == 0) {
    for (auto c : in) n += c & 1;
  }
  ::munmap(map, size);
  return n;
}

// Media once durable leave the page cache (they are rarely read back), all but the page the
// next fragment continues; unsynced bytes stay until they are written out.
TEST(LocalStore, DurableFragmentsLeaveThePageCacheButTheTailPage) {
  const auto dir = testing::fresh_dir("store-cache");
  struct statfs fs {};
  if (::statfs(dir.c_str(), &fs) == 0 && fs.f_type == TMPFS_MAGIC) {
    std::filesystem::remove_all(dir);
    GTEST_SKIP() << "tmpfs keeps every page in memory";
  }
  LocalStore store(dir);
  const std::string key = "eu/CAM-1/2026-12-06/1-1.mp4";
  const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t size = 64 * page + page / 4;  // never ends on a page
  const std::vector<uint8_t> first(size, 0x11), second(size, 0x22), third(size, 0x33);
  ASSERT_TRUE(store.append(key, first, false));
  EXPECT_GE(cached_pages(dir / key), 64u) << "not yet durable: kept";
  ASSERT_TRUE(store.append(key, second, true));
  EXPECT_EQ(cached_pages(dir / key), 1u) << "only the page the next append continues";
  ASSERT_TRUE(store.append(key, third, true));
  EXPECT_EQ(cached_pages(dir / key), 1u);
  EXPECT_EQ(*store.size(key), 3 * size);
  // Read back from the disk across each join, the kept tail page included.
  for (const size_t join : {size, 2 * size}) {
    const auto back = store.read(key, join - 10, 20);
    ASSERT_TRUE(back);
    std::vector<uint8_t> want(10, join == size ? 0x11 : 0x22);
    want.resize(20, join == size ? 0x22 : 0x33);
    EXPECT_EQ(*back, want) << "at " << join;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nj::recording
