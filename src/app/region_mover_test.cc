// A person's move to another region carries their cameras' event pictures out of a region
// that keeps them in a bucket and into one that keeps them in files, and back: nothing of them
// stays behind, and every picture still opens. The bucket is a real S3 (RGW) as "s3.…".
#include "app/region_mover.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "events/snapshot_files.h"
#include "recording/test_files.h"
#include "recording/test_store.h"
#include "store/migrations.h"
#include "store/test_postgres.h"

namespace nj::app {
namespace {

const std::string kDevice = "0a1b2c3d-0000-4000-8000-0000000000d1";
const std::string kEvents[] = {"e0000000-0000-4000-8000-000000000001",
                               "e0000000-0000-4000-8000-000000000002"};

// A person (u1) with a camera, two regions (eu keeps its media in a bucket, us in files), and
// the mover between them.
class RegionMoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store::migrate(*db, store::builtin_migrations()));
    ASSERT_TRUE(
        db->execute("INSERT INTO users (id, email, password_hash, language, status, created_at) "
                    "VALUES ('u1', 'u1@example.com', 'x', 'en', 'active', 0)"));
    const store::Value device[] = {kDevice};
    ASSERT_TRUE(
        db->execute("INSERT INTO devices (id, serial, secret_hash, created_at, owner_id) "
                    "VALUES ($1, 'CAM-1', 'x', 0, 'u1')",
                    device));
    auto made = privacy::Regions::make(
        *db, clock, {{"eu", "Europe", dir / "eu"}, {"us", "America", dir / "us"}});
    ASSERT_TRUE(made);
    regions = std::move(*made);
    mover = std::make_unique<RegionMover>(*db, *regions, catalog, media);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  // u1 moves to `region`: one step of the mover finishes it.
  void move_to(const std::string& region) {
    clock.advance_ms(1000);
    ASSERT_TRUE(regions->move("u1", region));
    EXPECT_EQ(mover->step(), 1u);
  }

  const std::filesystem::path dir = recording::testing::fresh_dir("region-mover");
  std::unique_ptr<store::Database> db = store::testing::open_test_database();
  ManualClock clock{1'800'000'000'000};
  std::unique_ptr<privacy::Regions> regions;
  std::unique_ptr<recording::Store> bucket = recording::testing::open_test_store(dir / "eu-bucket");
  recording::LocalStore media{dir / "media"};
  recording::Catalog catalog{*db};
  std::unique_ptr<RegionMover> mover;
};

TEST_F(RegionMoverTest, PicturesLeaveTheBucketForFilesAndComeBackWithNothingLeftBehind) {
  events::SnapshotFiles pictures(
      dir, [](std::string_view, bool) -> std::optional<keys::Key> { return keys::Key{}; });
  pictures.set_dir_for([&](std::string_view device_id) {
    const auto region = regions->of_device(device_id);
    return regions->root(region) / "events" / region;
  });
  pictures.set_store_for([&](std::string_view device_id) -> recording::Store* {
    return regions->of_device(device_id) == "eu" ? bucket.get() : nullptr;
  });
  for (const auto& e : kEvents) ASSERT_TRUE(pictures.write(kDevice, e, "\xff\xd8 " + e));
  EXPECT_EQ(bucket->list(kDevice + "/").size(), 2u);
  mover->set_picture_stores({{"eu", bucket.get()}});
  // To files in the us region.
  move_to("us");
  EXPECT_TRUE(bucket->list(kDevice + "/").empty()) << "nothing left in the old region's bucket";
  const auto us_dir = dir / "us" / "events" / "us" / kDevice;
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(us_dir), {}), 2);
  for (const auto& e : kEvents) {
    EXPECT_EQ(pictures.read(kDevice, e).value_or(""), "\xff\xd8 " + e);
  }
  // And back into the bucket.
  move_to("eu");
  EXPECT_FALSE(std::filesystem::exists(us_dir)) << "nothing left in the old region's files";
  EXPECT_EQ(bucket->list(kDevice + "/").size(), 2u);
  for (const auto& e : kEvents) {
    EXPECT_EQ(pictures.read(kDevice, e).value_or(""), "\xff\xd8 " + e);
  }
  for (const auto& k : bucket->list(kDevice + "/")) bucket->remove(k);
}

// An export kept in the old region's bucket goes too: piece by piece (it may be gigabytes),
// into the new region's files, and back into the bucket.
TEST_F(RegionMoverTest, AnExportLeavesTheBucketForFilesAndComesBack) {
  ASSERT_TRUE(db->execute(
      "INSERT INTO exports (id, user_id, state, created_at) VALUES ('x1', 'u1', 'ready', 0)"));
  std::vector<uint8_t> zip(20 << 20);  // past one 8 MiB piece
  for (size_t i = 0; i < zip.size(); ++i) zip[i] = static_cast<uint8_t>(i * 31 + i / 4099);
  ASSERT_TRUE(bucket->append("u1/x1.zip", zip, false));
  bucket->close("u1/x1.zip");
  mover->set_export_stores({{"eu", bucket.get()}});
  move_to("us");
  EXPECT_FALSE(bucket->size("u1/x1.zip")) << "nothing left in the old region's bucket";
  const auto file = dir / "us" / "exports" / "x1.zip";
  std::ifstream in(file, std::ios::binary);
  const std::vector<uint8_t> moved(std::istreambuf_iterator<char>(in), {});
  EXPECT_TRUE(moved == zip) << moved.size() << " bytes in " << file;
  move_to("eu");
  EXPECT_FALSE(std::filesystem::exists(file)) << "nothing left in the old region's files";
  const auto back = bucket->get("u1/x1.zip");
  ASSERT_TRUE(back);
  EXPECT_TRUE(*back == zip);
  bucket->remove("u1/x1.zip");
}

}  // namespace
}  // namespace nj::app
