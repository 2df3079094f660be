#include "recording/fragmenter.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "media/fmp4/demux.h"
#include "recording/test_stream.h"

namespace nj::recording {
namespace {

TEST(Fragmenter, OneFragmentPerGopWithExactDurationsAndContinuousTimes) {
  Fragmenter f(testing::stream_info());
  testing::Stream stream(50);  // 2 s GOPs
  std::vector<Fragment> fragments;
  for (int i = 0; i < 250; ++i) {  // 10 s
    for (const auto& frame : stream.next()) {
      if (auto done = f.push(frame)) fragments.push_back(std::move(*done));
    }
  }
  for (auto& last : f.flush()) fragments.push_back(std::move(last));
  ASSERT_EQ(fragments.size(), 5u);
  ASSERT_FALSE(f.init().empty());
  uint64_t expected_start = 0;
  std::vector<uint8_t> file = f.init();
  for (const auto& fr : fragments) {
    EXPECT_TRUE(fr.keyframe);
    EXPECT_EQ(fr.duration, 2u * 90'000) << "50 frames of 3,600 ticks";
    EXPECT_EQ(fr.start_ticks, expected_start) << "no gap, no overlap";
    EXPECT_EQ(fr.video_samples, 50u);
    EXPECT_GE(fr.audio_samples, 90u);
    expected_start += fr.duration;
    file.insert(file.end(), fr.bytes.begin(), fr.bytes.end());
  }
  // A valid fragmented MP4: every sample of both tracks, in order.
  const auto d = media::fmp4::demux(file);
  ASSERT_FALSE(d.error) << media::fmp4::demux_error_name(*d.error);
  EXPECT_EQ(d.fragments.size(), 10u) << "a video and an audio moof per fragment";
  size_t video = 0;
  for (const auto& fr : d.fragments) {
    for (const auto& s : fr.samples) video += s.track_id == 1;
  }
  EXPECT_EQ(video, 250u);
  EXPECT_EQ(f.start_wall_us(), 1'795'000'000'000'000) << "the camera's capture clock";
  // Recorded bytes against the media: the boxes around them cost well under 1 %.
  EXPECT_LE(static_cast<double>(file.size()),
            1.01 * static_cast<double>(stream.video_bytes + stream.audio_bytes));
}

// The seed of fuzz/recovery.cc (NJ_WRITE_RECOVERY_SEED=path): an init, one whole fragment
// of small frames and half of the next.
TEST(Fragmenter, WritesTheRecoverySeed) {
  const char* seed = std::getenv("NJ_WRITE_RECOVERY_SEED");
  if (!seed) GTEST_SKIP() << "only when asked";
  Fragmenter f(testing::stream_info());
  testing::Stream stream(5, 1'795'000'000'000'000, 60, 12);
  std::vector<Fragment> fragments;
  while (fragments.size() < 2) {
    for (const auto& frame : stream.next()) {
      if (auto done = f.push(frame)) fragments.push_back(std::move(*done));
    }
  }
  std::vector<uint8_t> file = f.init();
  file.insert(file.end(), fragments[0].bytes.begin(), fragments[0].bytes.end());
  file.insert(
      file.end(), fragments[1].bytes.begin(),
      fragments[1].bytes.begin() + static_cast<std::ptrdiff_t>(fragments[1].bytes.size() / 2));
  std::ofstream(seed, std::ios::binary)
      .write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(file.size()));
}

// Audio often arrives after the video it goes with. A cut waits for it, so each fragment
// holds both tracks over the same span (players line the tracks up from the first one).
TEST(Fragmenter, AudioArrivingLateStaysInTheFragmentOfItsTime) {
  Fragmenter f(testing::stream_info());
  testing::Stream stream(50);
  std::vector<media::hub::FramePtr> late_audio;
  std::vector<Fragment> fragments;
  auto push = [&](const media::hub::FramePtr& frame) {
    if (auto done = f.push(frame)) fragments.push_back(std::move(*done));
  };
  for (int i = 0; i < 250; ++i) {
    for (const auto& frame : stream.next()) {
      if (frame->track == media::hub::TrackKind::kAudio) {
        late_audio.push_back(frame);  // held back four video frames (160 ms)
      } else {
        push(frame);
      }
    }
    while (late_audio.size() > 8) {
      push(late_audio.front());
      late_audio.erase(late_audio.begin());
    }
  }
  ASSERT_GE(fragments.size(), 4u);
  std::vector<uint8_t> file = f.init();
  for (const auto& fr : fragments) file.insert(file.end(), fr.bytes.begin(), fr.bytes.end());
  const auto d = media::fmp4::demux(file);
  ASSERT_FALSE(d.error);
  for (size_t i = 0; i + 1 < d.fragments.size(); i += 2) {
    const auto& video = d.fragments[i].samples;
    const auto& audio = d.fragments[i + 1].samples;
    ASSERT_FALSE(audio.empty());
    const int64_t v_start = video.front().decode_time;  // 90 kHz
    int64_t v_end = v_start;
    for (const auto& s : video) v_end += s.duration;
    for (const auto& s : audio) {
      const int64_t at = s.decode_time * 90'000 / 48'000;
      EXPECT_GE(at, v_start - 2'000) << "fragment " << i / 2;
      EXPECT_LT(at, v_end) << "fragment " << i / 2;
    }
  }
}

TEST(Fragmenter, ALongGopIsCutAtTwoSeconds) {
  Fragmenter f(testing::stream_info());
  testing::Stream stream(250);  // a keyframe every 10 s
  std::vector<Fragment> fragments;
  for (int i = 0; i < 250; ++i) {
    for (const auto& frame : stream.next()) {
      if (auto done = f.push(frame)) fragments.push_back(std::move(*done));
    }
  }
  ASSERT_EQ(fragments.size(), 4u);
  EXPECT_TRUE(fragments[0].keyframe);
  for (size_t i = 1; i < fragments.size(); ++i) {
    EXPECT_FALSE(fragments[i].keyframe);
    EXPECT_EQ(fragments[i].duration, 2u * 90'000);
  }
}

}  // namespace
}  // namespace nj::recording
