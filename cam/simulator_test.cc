#include "simulator.h"

#include <gtest/gtest.h>

#include <thread>

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
