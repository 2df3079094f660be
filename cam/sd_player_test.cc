#include "sd_player.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "sd_card.h"
#include "simulator.h"

namespace nj::cam {
namespace {

using namespace std::chrono_literals;

std::filesystem::path fresh_dir() {
  auto d = std::filesystem::temp_directory_path() /
           ("nj-sdplay-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::filesystem::remove_all(d);
  return d;
}

// Records a couple of seconds of the simulator onto a card; returns the first recording.
SdCard::Recording record(const std::filesystem::path& dir) {
  media::hub::Hub hub;
  SimulatorOptions sim;
  sim.width = 160;
  sim.height = 96;
  sim.fps = 20;
  sim.gop_seconds = 1;
  auto camera = Simulator::start(hub, "camera", sim);
  EXPECT_TRUE(camera);
  SdCard card(hub, "camera", {dir, 8 * 1024 * 1024, std::chrono::seconds(2)});
  for (int i = 0; i < 100 && card.list().empty(); ++i) std::this_thread::sleep_for(100ms);
  const auto list = card.list();
  return list.empty() ? SdCard::Recording{} : list[0];
}

TEST(SdPlayer, PlaysARecordingFromTheKeyframeBeforeTheOffsetAtItsOwnPace) {
  const auto dir = fresh_dir();
  const auto recording = record(dir);
  ASSERT_FALSE(recording.name.empty());

  net::IoPool pool(1);
  pool.start();
  media::hub::Hub hub;
  SdPlayOptions options;
  options.file = dir / recording.name;
  options.offset_ms = 1200;
  options.recorded_at_ms = recording.start_ms;
  options.push_url = "rtsp://127.0.0.1:9/sd/CAM?token=t";  // nobody there: only the local stream
  auto player = SdPlayer::start(pool, hub, options);
  ASSERT_TRUE(player) << player.error();
  EXPECT_GE((*player)->duration_ms(), 1500);
  // Gop of a second: the keyframe at or before 1.2 s is the one at 1 s.
  EXPECT_LE((*player)->start_ms(), 1200);
  EXPECT_GE((*player)->start_ms(), 900);

  std::vector<media::hub::FramePtr> frames;
  auto sub = hub.subscribe(options.local_path, {});
  ASSERT_TRUE(sub);
  const auto began = std::chrono::steady_clock::now();
  for (int i = 0; i < 100 && !(*player)->finished(); ++i) {
    (*sub)->queue().drain(frames);
    std::this_thread::sleep_for(50ms);
  }
  (*sub)->queue().drain(frames);
  const auto took = std::chrono::steady_clock::now() - began;
  ASSERT_TRUE((*player)->finished());
  EXPECT_TRUE((*sub)->queue().ended());
  ASSERT_FALSE(frames.empty());
  EXPECT_TRUE(frames[0]->keyframe && frames[0]->track == media::hub::TrackKind::kVideo);
  int video = 0;
  for (const auto& f : frames) video += f->track == media::hub::TrackKind::kVideo;
  const int64_t played_ms = (*player)->duration_ms() - (*player)->start_ms();
  EXPECT_NEAR(video, played_ms / 50 + 1, 2) << "every frame from the keyframe on";
  // At the pace it was recorded, not as fast as it can be read.
  EXPECT_GE(std::chrono::duration_cast<std::chrono::milliseconds>(took).count(), played_ms - 100);
  // The recording's clock: frames carry when they were captured.
  EXPECT_GE(frames[0]->capture_us / 1000, recording.start_ms + (*player)->start_ms() - 1);
  player->reset();
  pool.shutdown();
  std::filesystem::remove_all(dir);
}

TEST(SdPlayer, DamagedOrMissingRecordingsAreRefusedOrPlayedUpToTheDamage) {
  const auto dir = fresh_dir();
  const auto recording = record(dir);
  ASSERT_FALSE(recording.name.empty());
  net::IoPool pool(1);
  pool.start();
  media::hub::Hub hub;
  SdPlayOptions options;
  options.push_url = "rtsp://127.0.0.1:9/sd/CAM?token=t";

  options.file = dir / "none.mp4";
  EXPECT_FALSE(SdPlayer::start(pool, hub, options));
  std::ofstream(dir / "junk.mp4") << "this is not a recording";
  options.file = dir / "junk.mp4";
  EXPECT_FALSE(SdPlayer::start(pool, hub, options));

  // Cut in the middle (power lost while writing): what is whole still plays.
  const auto full = std::filesystem::file_size(dir / recording.name);
  std::filesystem::copy_file(dir / recording.name, dir / "cut.mp4");
  std::filesystem::resize_file(dir / "cut.mp4", full / 2);
  options.file = dir / "cut.mp4";
  auto cut = SdPlayer::start(pool, hub, options);
  ASSERT_TRUE(cut) << cut.error();
  EXPECT_GT((*cut)->duration_ms(), 200);
  // One playback at a time on the local stream.
  EXPECT_FALSE(SdPlayer::start(pool, hub, options));
  cut->reset();
  EXPECT_TRUE(SdPlayer::start(pool, hub, options));
  pool.shutdown();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nj::cam
