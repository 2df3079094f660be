// Server-side detection (#14), per picture, on real H.264 keyframes of the simulated camera
// (640×360, a person walking across a still yard): decoding a keyframe to grey, motion by
// frame differencing, and OpenCV's HOG people detector on the region that moved and on the
// whole picture. A camera looked at twice a second costs 2 × (decode + motion) a second, plus
// one HOG every 2 s while something moves.
#include <benchmark/benchmark.h>

#include <thread>

#include "detect/motion.h"
#include "detect/person.h"
#include "media/hub/hub.h"
#include "simulator.h"

namespace {

using namespace nj;

struct Keyframes {
  media::hub::StreamInfo info;
  std::vector<media::hub::FramePtr> frames;  // keyframes, the person in some of them
};

// Four seconds of the simulator at 640×360, GOP 1 s, the intruder for 3 s of every 4.
const Keyframes& keyframes() {
  static const Keyframes k = [] {
    Keyframes out;
    media::hub::Hub hub;
    cam::SimulatorOptions o;
    o.width = 640;
    o.height = 360;
    o.fps = 10;
    o.gop_seconds = 1;
    o.audio = false;
    o.still = true;
    o.intruder_person = true;
    o.motion_every_s = 4;
    o.motion_for_s = 3;
    auto sim = cam::Simulator::start(hub, "camera", o);
    auto sub = hub.subscribe("camera", {});
    out.info = (*sub)->info();
    for (int i = 0; i < 60 && out.frames.size() < 6; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      std::vector<media::hub::FramePtr> frames;
      (*sub)->queue().drain(frames);
      for (const auto& f : frames) {
        if (f->track == media::hub::TrackKind::kVideo && f->keyframe) out.frames.push_back(f);
      }
    }
    return out;
  }();
  return k;
}

media::snapshot::GrayPicture gray(size_t i) {
  const auto& k = keyframes();
  const std::span<const uint8_t> sets[] = {k.info.sps, k.info.pps};
  return std::move(media::snapshot::keyframe_to_gray(media::snapshot::VideoCodec::kH264,
                                                     k.frames[i % k.frames.size()]->data, sets,
                                                     640))
      .value();
}

void BM_DecodeKeyframeToGray640x360(benchmark::State& state) {
  const auto& k = keyframes();
  const std::span<const uint8_t> sets[] = {k.info.sps, k.info.pps};
  size_t i = 0;
  for (auto _ : state) {
    auto g = media::snapshot::keyframe_to_gray(media::snapshot::VideoCodec::kH264,
                                               k.frames[i++ % k.frames.size()]->data, sets, 640);
    benchmark::DoNotOptimize(g);
  }
}
BENCHMARK(BM_DecodeKeyframeToGray640x360)->Unit(benchmark::kMillisecond);

void BM_MotionFeed640x360(benchmark::State& state) {
  std::vector<media::snapshot::GrayPicture> pictures;
  for (size_t i = 0; i < keyframes().frames.size(); ++i) pictures.push_back(gray(i));
  detect::MotionDetector d(detect::DetectionSettings{});
  size_t i = 0, moving = 0;
  for (auto _ : state) moving += d.feed(pictures[i++ % pictures.size()]).moving ? 1 : 0;
  state.counters["moving_share"] = static_cast<double>(moving) / static_cast<double>(i);
}
BENCHMARK(BM_MotionFeed640x360)->Unit(benchmark::kMillisecond);

// HOG on what moved (the region the motion detector found), and on the whole picture.
void BM_PeopleOnTheMotion(benchmark::State& state) {
  std::vector<media::snapshot::GrayPicture> pictures;
  for (size_t i = 0; i < keyframes().frames.size(); ++i) pictures.push_back(gray(i));
  detect::MotionDetector d(detect::DetectionSettings{});
  std::vector<std::pair<size_t, detect::Box>> moved;
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 0; i < pictures.size(); ++i) {
      const auto v = d.feed(pictures[i]);
      if (v.moving) moved.emplace_back(i, v.box);
    }
  }
  if (moved.empty()) {
    state.SkipWithError("nothing moved");
    return;
  }
  detect::PersonDetector people;
  size_t i = 0, found = 0;
  for (auto _ : state) {
    const auto& [index, box] = moved[i++ % moved.size()];
    found += people.find(pictures[index], box).empty() ? 0 : 1;
  }
  state.counters["found_share"] = static_cast<double>(found) / static_cast<double>(i);
}
BENCHMARK(BM_PeopleOnTheMotion)->Unit(benchmark::kMillisecond);

void BM_PeopleWholePicture640x360(benchmark::State& state) {
  const auto picture = gray(1);
  detect::PersonDetector people;
  for (auto _ : state) benchmark::DoNotOptimize(people.find(picture, {}));
}
BENCHMARK(BM_PeopleWholePicture640x360)->Unit(benchmark::kMillisecond);

}  // namespace
