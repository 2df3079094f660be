#include "common/zip_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/test_run.h"

namespace nj {
namespace {

using nj::testing::run;

TEST(ZipWriter, WritesAnArchiveThatUnzipOpensAndRefusesUnsafeNames) {
  const auto path =
      std::filesystem::temp_directory_path() / ("nj-zip-" + std::to_string(::getpid()) + ".zip");
  std::string binary(70'000, '\0');
  for (size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>(i * 31);
  {
    ZipWriter zip(path);
    EXPECT_TRUE(zip.add("account.json", R"({"email":"a@example.org"})", 1'800'000'000'000));
    EXPECT_TRUE(zip.add("pictures/d1/e1.jpg", binary, 1'800'000'000'000));
    EXPECT_TRUE(zip.add("说明.txt", "中文", 1'800'000'000'000));
    EXPECT_FALSE(zip.add("../escape.txt", "x", 0));
    EXPECT_FALSE(zip.add("/abs.txt", "x", 0));
    EXPECT_FALSE(zip.add("a//b.txt", "x", 0));
    EXPECT_FALSE(zip.add("", "x", 0));
    ASSERT_TRUE(zip.finish());
  }
  const std::string p = "'" + path.string() + "'";
  EXPECT_NE(run("unzip -t " + p + " 2>&1").find("No errors detected"), std::string::npos)
      << run("unzip -t " + p + " 2>&1");
  EXPECT_EQ(run("unzip -p " + p + " account.json"), R"({"email":"a@example.org"})");
  EXPECT_EQ(run("unzip -p " + p + " pictures/d1/e1.jpg"), binary);
  EXPECT_EQ(run("LC_ALL=C.UTF-8 unzip -Z1 " + p), "account.json\npictures/d1/e1.jpg\n说明.txt\n");
  std::filesystem::remove(path);
}

// A large entry read piece by piece (a recording): the same bytes come out; a read that
// fails before anything is written leaves the archive whole without it.
TEST(ZipWriter, StreamedEntriesAreReadInPiecesAndAFailedOneIsLeftOut) {
  const auto path =
      std::filesystem::temp_directory_path() / ("nj-zips-" + std::to_string(::getpid()) + ".zip");
  std::string big(3'300'000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 13 + i / 999);
  size_t reads = 0;
  {
    ZipWriter zip(path);
    ASSERT_TRUE(zip.add_streamed(
        "recordings/cam/1.mp4", big.size(),
        [&](uint64_t at, uint64_t n) -> std::optional<std::vector<uint8_t>> {
          ++reads;
          EXPECT_LE(n, 1u << 20) << "never whole in memory";
          return std::vector<uint8_t>(big.begin() + static_cast<long>(at),
                                      big.begin() + static_cast<long>(at + n));
        },
        0));
    EXPECT_FALSE(zip.add_streamed(
        "recordings/cam/2.mp4", 100,
        [](uint64_t, uint64_t) -> std::optional<std::vector<uint8_t>> { return std::nullopt; }, 0));
    EXPECT_TRUE(zip.good());
    ASSERT_TRUE(zip.add("after.txt", "still here", 0));
    ASSERT_TRUE(zip.finish());
  }
  EXPECT_EQ(reads, 8u) << "4 pieces for the CRC, 4 to write";
  const std::string p = "'" + path.string() + "'";
  EXPECT_NE(run("unzip -t " + p + " 2>&1").find("No errors detected"), std::string::npos);
  EXPECT_TRUE(run("unzip -p " + p + " recordings/cam/1.mp4") == big) << "the same bytes";
  EXPECT_EQ(run("unzip -Z1 " + p), "recordings/cam/1.mp4\nafter.txt\n");
  std::filesystem::remove(path);
}

// A person with 100,000 event pictures: more entries than a classic ZIP can count, so the
// archive ends with the ZIP64 records, and unzip lists and checks every entry.
TEST(ZipWriter, MoreThan65535EntriesUseZip64AndUnzipReadsThemAll) {
  const auto path =
      std::filesystem::temp_directory_path() / ("nj-zip64-" + std::to_string(::getpid()) + ".zip");
  {
    ZipWriter zip(path);
    for (int i = 0; i < 70'000; ++i) {
      ASSERT_TRUE(zip.add("pictures/" + std::to_string(i) + ".jpg", std::to_string(i * 7), 0));
    }
    ASSERT_TRUE(zip.finish());
  }
  const std::string p = "'" + path.string() + "'";
  const std::string tested = run("unzip -t " + p + " 2>&1 | tail -1");
  EXPECT_NE(tested.find("No errors detected"), std::string::npos) << tested;
  EXPECT_EQ(run("unzip -Z1 " + p + " | wc -l"), "70000\n");
  EXPECT_EQ(run("unzip -p " + p + " pictures/69999.jpg"), std::to_string(69'999 * 7));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace nj
