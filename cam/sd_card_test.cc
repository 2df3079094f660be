#include "sd_card.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "media/fmp4/demux.h"
#include "simulator.h"

namespace nj::cam {
namespace {

using namespace std::chrono_literals;

std::filesystem::path fresh_dir() {
  auto d = std::filesystem::temp_directory_path() /
           ("nj-sd-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::filesystem::remove_all(d);
  return d;
}

TEST(SdCard, RecordsPlayableSegmentsAsARing) {
  const auto dir = fresh_dir();
  media::hub::Hub hub;
  SimulatorOptions sim;
  sim.width = 160;
  sim.height = 96;
  sim.fps = 20;
  sim.gop_seconds = 1;
  auto camera = Simulator::start(hub, "camera", sim);
  ASSERT_TRUE(camera) << camera.error();
  {
    SdCard card(hub, "camera", {dir, 120 * 1024, std::chrono::seconds(1)});
    std::this_thread::sleep_for(4500ms);
    auto recordings = card.list();
    ASSERT_GE(recordings.size(), 2u);
    // Each finished file is a valid fragmented MP4 starting at a keyframe, about a second long.
    for (const auto& r : recordings) {
      EXPECT_GE(r.end_ms - r.start_ms, 700) << r.name;
      std::ifstream in(dir / r.name, std::ios::binary);
      std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
      const auto d = media::fmp4::demux(bytes);
      EXPECT_FALSE(d.error) << r.name;
      ASSERT_FALSE(d.fragments.empty()) << r.name;
      EXPECT_TRUE(d.fragments[0].samples[0].keyframe) << r.name;
    }
    const auto state = card.state();
    EXPECT_EQ(state.health, "ok");
    EXPECT_LE(state.used_bytes, state.capacity_bytes + 64 * 1024) << "a ring, not a pile";
    // Deleting one, refusing names that are not recordings.
    EXPECT_TRUE(card.remove(recordings[0].name));
    EXPECT_FALSE(card.remove(recordings[0].name));
    EXPECT_FALSE(card.remove("../../etc/passwd"));
    EXPECT_FALSE(card.remove("1-2.txt"));
    // Formatting empties it; recording goes on afterwards.
    card.format();
    EXPECT_TRUE(card.list().empty());
    std::this_thread::sleep_for(2500ms);
    EXPECT_FALSE(card.list().empty());
  }
  std::filesystem::remove_all(dir);
}

// A file a crash left open keeps its frames under a proper name, even if the clock went back.
TEST(SdCard, AFileLeftByACrashIsKept) {
  const auto dir = fresh_dir();
  std::filesystem::create_directories(dir);
  const int64_t future = 4'000'000'000'000;  // later than its modification time
  std::ofstream(dir / (std::to_string(future) + "-rec.mp4")) << "partial";
  std::ofstream(dir / "junk-rec.mp4") << "not ours";
  media::hub::Hub hub;
  {
    SdCard card(hub, "camera", {dir, 1024 * 1024, std::chrono::seconds(60)});
    const auto recordings = card.list();
    ASSERT_EQ(recordings.size(), 1u);
    EXPECT_EQ(recordings[0].start_ms, future);
    EXPECT_EQ(recordings[0].end_ms, future);
    EXPECT_FALSE(std::filesystem::exists(dir / "junk-rec.mp4"));
  }
  std::filesystem::remove_all(dir);
}

// A camera that changes hands erases its card before it serves anyone (#12, item 4).
TEST(SdCard, ACardIsErasedWhenTheCameraChangesHandsAndKeptForTheSameOwner) {
  const auto dir = fresh_dir();
  std::filesystem::create_directories(dir);
  const auto recording = [&](const std::string& name) { std::ofstream(dir / name) << "media"; };
  recording("1000-2000.mp4");
  media::hub::Hub hub;
  {
    SdCard card(hub, "camera", {dir, 1024 * 1024, std::chrono::seconds(60)});
    EXPECT_FALSE(card.settle_owner("alice-tag")) << "recorded while nobody's: kept";
    EXPECT_EQ(card.list().size(), 1u);
    EXPECT_FALSE(card.settle_owner("alice-tag")) << "the same owner again";
    EXPECT_EQ(card.list().size(), 1u);
    EXPECT_TRUE(card.settle_owner("bob-tag")) << "another account: erased first";
    EXPECT_TRUE(card.list().empty());
    recording("3000-4000.mp4");
    EXPECT_TRUE(card.settle_owner(std::nullopt)) << "unbound: erased";
    EXPECT_TRUE(card.list().empty());
    EXPECT_FALSE(std::filesystem::exists(dir / ".binding"));
  }
  {
    // The card remembers across restarts whose it was.
    recording("5000-6000.mp4");
    SdCard card(hub, "camera", {dir, 1024 * 1024, std::chrono::seconds(60)});
    EXPECT_FALSE(card.settle_owner("carol-tag"));
    recording("7000-8000.mp4");
  }
  {
    SdCard card(hub, "camera", {dir, 1024 * 1024, std::chrono::seconds(60)});
    EXPECT_EQ(card.list().size(), 2u);
    EXPECT_TRUE(card.settle_owner("dave-tag"));
    EXPECT_TRUE(card.list().empty());
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nj::cam
