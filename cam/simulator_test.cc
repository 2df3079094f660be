#include "simulator.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "media/codec/h264_sps.h"

namespace nj::cam {
namespace {

TEST(Simulator, PublishesRealH264AndAacInRealTime) {
  media::hub::Hub hub;
  SimulatorOptions o;
  o.width = 320;
  o.height = 240;
  o.fps = 20;
  auto sim = Simulator::start(hub, "camera", o);
  ASSERT_TRUE(sim) << sim.error();
  auto sub = hub.subscribe("camera", {});
  ASSERT_TRUE(sub);
  const auto& info = (*sub)->info();
  EXPECT_EQ(info.video_codec, "H264");
  auto sps = media::codec::parse_h264_sps(info.sps);
  ASSERT_TRUE(sps);
  EXPECT_EQ(sps->width, 320u);
  EXPECT_EQ(sps->height, 240u);
  EXPECT_EQ(info.audio_codec, "AAC");
  EXPECT_EQ(info.audio_sample_rate, 16000u);
  EXPECT_FALSE(info.audio_config.empty());

  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  std::vector<media::hub::FramePtr> frames;
  (*sub)->queue().drain(frames);
  size_t video = 0, audio = 0;
  int64_t last = -1;
  for (const auto& f : frames) {
    if (f->track == media::hub::TrackKind::kAudio) {
      ++audio;
      continue;
    }
    if (video == 0) {
      EXPECT_TRUE(f->keyframe);
    }
    if (last >= 0) {
      EXPECT_EQ(f->timestamp - last, 90000 / 20);
    }
    last = f->timestamp;
    EXPECT_GT(f->capture_us, 0);
    // AVCC: 4-byte lengths that add up exactly.
    size_t at = 0;
    while (at + 4 <= f->data.size()) {
      const size_t n = (size_t{f->data[at]} << 24) | (size_t{f->data[at + 1]} << 16) |
                       (size_t{f->data[at + 2]} << 8) | f->data[at + 3];
      at += 4 + n;
    }
    EXPECT_EQ(at, f->data.size());
    ++video;
  }
  EXPECT_GE(video, 18u) << "about 1.1 s at 20 fps, in real time";
  EXPECT_LE(video, 26u);
  EXPECT_GE(audio, 14u) << "16,000 samples a second in frames of 1,024";
  EXPECT_GE((*sim)->frames(), video);
}

TEST(Simulator, ItsIntruderComesAndGoesOnSchedule) {
  media::hub::Hub hub;
  SimulatorOptions o;
  o.width = 160;
  o.height = 120;
  o.fps = 20;
  o.audio = false;
  o.motion_every_s = 2;  // an intruder from 1 s to 2 s, and from 3 s to 4 s
  o.motion_for_s = 1;
  std::mutex mu;
  std::vector<std::pair<bool, std::chrono::steady_clock::time_point>> seen;
  o.on_motion = [&](bool active) {
    std::lock_guard lock(mu);
    seen.emplace_back(active, std::chrono::steady_clock::now());
  };
  const auto start = std::chrono::steady_clock::now();
  auto sim = Simulator::start(hub, "camera", o);
  ASSERT_TRUE(sim) << sim.error();
  std::this_thread::sleep_for(std::chrono::milliseconds(3300));
  sim->reset();  // stopped during the second visit: it ends with the simulator
  ASSERT_EQ(seen.size(), 4u);
  const bool expected[] = {true, false, true, false};
  const double at[] = {1.0, 2.0, 3.0};
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(seen[i].first, expected[i]) << i;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(std::chrono::duration<double>(seen[i].second - start).count(), at[i], 0.5) << i;
  }
}

TEST(Simulator, RefusesImpossibleOptions) {
  media::hub::Hub hub;
  SimulatorOptions o;
  o.width = 33;
  EXPECT_FALSE(Simulator::start(hub, "camera", o));
  o.width = 320;
  o.fps = 0;
  EXPECT_FALSE(Simulator::start(hub, "camera", o));
}

}  // namespace
}  // namespace nj::cam
