#include "simulator.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "media/codec/h264_sps.h"

extern "C" {
#include <libavcodec/avcodec.h>
}

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

// Decodes a subscriber's frames, keeping the last picture: what a viewer would see now.
class Viewer {
 public:
  explicit Viewer(const media::hub::StreamInfo& info) {
    codec_ = avcodec_alloc_context3(avcodec_find_decoder(AV_CODEC_ID_H264));
    avcodec_open2(codec_, nullptr, nullptr);
    picture_ = av_frame_alloc();
    decoded_ = av_frame_alloc();
    packet_ = av_packet_alloc();
    for (const auto* nal : {&info.sps, &info.pps}) append(*nal);
  }
  ~Viewer() {
    av_packet_free(&packet_);
    av_frame_free(&picture_);
    av_frame_free(&decoded_);
    avcodec_free_context(&codec_);
  }
  // Feeds the frames (AVCC) to the decoder; true if a picture came out.
  bool feed(const std::vector<media::hub::FramePtr>& frames) {
    bool any = false;
    for (const auto& f : frames) {
      if (f->track != media::hub::TrackKind::kVideo) continue;
      for (size_t at = 0; at + 4 <= f->data.size();) {
        const size_t n = (size_t{f->data[at]} << 24) | (size_t{f->data[at + 1]} << 16) |
                         (size_t{f->data[at + 2]} << 8) | f->data[at + 3];
        append({f->data.begin() + static_cast<long>(at) + 4,
                f->data.begin() + static_cast<long>(at + 4 + n)});
        at += 4 + n;
      }
      packet_->data = annexb_.data();
      packet_->size = static_cast<int>(annexb_.size());
      if (avcodec_send_packet(codec_, packet_) == 0) {
        // Receiving clears the frame it is given, even when nothing comes: keep a copy.
        while (avcodec_receive_frame(codec_, decoded_) == 0) {
          av_frame_unref(picture_);
          av_frame_move_ref(picture_, decoded_);
          any = true;
        }
      }
      annexb_.clear();
    }
    return any;
  }
  // Mean of a plane over a rectangle.
  double mean(int plane, int x, int y, int w, int h) const {
    double sum = 0;
    for (int row = y; row < y + h; ++row) {
      for (int col = x; col < x + w; ++col)
        sum += picture_->data[plane][row * picture_->linesize[plane] + col];
    }
    return sum / (w * h);
  }
  int width() const { return picture_->width; }
  int height() const { return picture_->height; }

 private:
  void append(const std::vector<uint8_t>& nal) {
    annexb_.insert(annexb_.end(), {0, 0, 0, 1});
    annexb_.insert(annexb_.end(), nal.begin(), nal.end());
  }
  AVCodecContext* codec_ = nullptr;
  AVFrame* picture_ = nullptr;
  AVFrame* decoded_ = nullptr;
  AVPacket* packet_ = nullptr;
  std::vector<uint8_t> annexb_;
};

// Mirror, flip, night and privacy mode each show in what a viewer sees.
TEST(Simulator, TheCamerasSettingsShowInItsPicture) {
  media::hub::Hub hub;
  SimulatorOptions o;
  o.width = 320;
  o.height = 240;
  o.fps = 20;
  o.gop_seconds = 10;  // no keyframe but the first, unless one is forced
  o.audio = false;
  auto sim = Simulator::start(hub, "camera", o);
  ASSERT_TRUE(sim) << sim.error();
  auto sub = hub.subscribe("camera", {});
  ASSERT_TRUE(sub);
  Viewer viewer((*sub)->info());
  std::vector<media::hub::FramePtr> frames;
  const auto watch = [&](std::chrono::milliseconds for_) {
    std::this_thread::sleep_for(for_);
    frames.clear();
    (*sub)->queue().drain(frames);
    return viewer.feed(frames);
  };
  // The scene: a gradient darker at the top; the clock at the bottom left; coloured objects.
  const auto top = [&] { return viewer.mean(0, 0, 20, 320, 20); };
  const auto bottom = [&] { return viewer.mean(0, 0, 185, 320, 20); };
  const auto clock_left = [&] { return viewer.mean(0, 0, 214, 40, 20); };
  const auto clock_right = [&] { return viewer.mean(0, 280, 214, 40, 20); };
  const auto colour = [&] {  // how far U strays from grey, over the whole picture
    double d = 0;
    for (int y = 0; y < 120; y += 4) d += std::abs(viewer.mean(1, 0, y, 160, 4) - 128);
    return d / 30;
  };
  ASSERT_TRUE(watch(std::chrono::milliseconds(400)));
  EXPECT_LT(top() + 20, bottom());
  EXPECT_GT(clock_left(), clock_right() + 20);
  EXPECT_GT(colour(), 3);

  (*sim)->set_look({.mirror = true});
  ASSERT_TRUE(watch(std::chrono::milliseconds(300)));
  EXPECT_LT(clock_left() + 20, clock_right()) << "mirrored: the clock is on the right";
  EXPECT_LT(top() + 20, bottom());

  (*sim)->set_look({.flip = true});
  ASSERT_TRUE(watch(std::chrono::milliseconds(300)));
  EXPECT_GT(top(), bottom() + 20) << "upside down: the bright end on top";

  (*sim)->set_look({.night = true});
  ASSERT_TRUE(watch(std::chrono::milliseconds(300)));
  EXPECT_LT(colour(), 1) << "night: grey";

  // Privacy mode: nothing at all; then a keyframe first.
  (*sim)->set_look({.covered = true});
  watch(std::chrono::milliseconds(100));  // what was under way
  watch(std::chrono::milliseconds(400));
  EXPECT_TRUE(frames.empty()) << frames.size() << " frames in privacy mode";
  (*sim)->set_look({});
  watch(std::chrono::milliseconds(300));
  ASSERT_FALSE(frames.empty());
  EXPECT_TRUE(frames.front()->keyframe) << "a viewer can start at once after privacy mode";
}

// The camera's own picture for an event: a JPEG of its next frame, the size of its picture;
// none at all in privacy mode.
TEST(Simulator, TakesItsOwnJpegButNotInPrivacyMode) {
  media::hub::Hub hub;
  SimulatorOptions o;
  o.width = 320;
  o.height = 240;
  o.fps = 10;
  o.audio = false;
  auto sim = Simulator::start(hub, "camera", o);
  ASSERT_TRUE(sim) << sim.error();
  const auto jpeg = (*sim)->jpeg();
  ASSERT_TRUE(jpeg);
  ASSERT_GT(jpeg->size(), 1000u);
  EXPECT_EQ(static_cast<uint8_t>((*jpeg)[0]), 0xFF);
  EXPECT_EQ(static_cast<uint8_t>((*jpeg)[1]), 0xD8);
  EXPECT_EQ(static_cast<uint8_t>(jpeg->back()), 0xD9);
  // Its frame header says 320×240 (SOF0: FF C0, length, precision, height, width).
  const auto sof = jpeg->find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  EXPECT_EQ(static_cast<uint8_t>((*jpeg)[sof + 5]) << 8 | static_cast<uint8_t>((*jpeg)[sof + 6]),
            240);
  EXPECT_EQ(static_cast<uint8_t>((*jpeg)[sof + 7]) << 8 | static_cast<uint8_t>((*jpeg)[sof + 8]),
            320);
  (*sim)->set_look({.covered = true});
  EXPECT_FALSE((*sim)->jpeg()) << "privacy mode: no picture";
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
