// The media hot paths per byte: RTP parsing + H.264 depacketizing, and packetizing, over
// a 10-second, 2 Mbit/s, 25 fps stream shape (a 60 KB keyframe every 2 s, 8 KB otherwise).
#include <benchmark/benchmark.h>

#include <vector>

#include "media/fmp4/live.h"
#include "media/hub/hub.h"
#include "media/rtp/aac.h"
#include "media/rtp/h264.h"
#include "media/rtp/h265.h"
#include "media/rtsp/message.h"

namespace {

using namespace nj::media;

std::vector<std::vector<uint8_t>> access_units() {
  std::vector<std::vector<uint8_t>> out;
  for (int frame = 0; frame < 250; ++frame) {
    const bool key = frame % 50 == 0;
    const size_t size = key ? 60000 : 8000;
    std::vector<uint8_t> nal(size);
    nal[0] = key ? 0x65 : 0x41;
    for (size_t i = 1; i < size; ++i) nal[i] = static_cast<uint8_t>(i * 31 + frame);
    std::vector<uint8_t> avcc = {uint8_t(size >> 24), uint8_t(size >> 16), uint8_t(size >> 8),
                                 uint8_t(size)};
    avcc.insert(avcc.end(), nal.begin(), nal.end());
    out.push_back(std::move(avcc));
  }
  return out;
}

// One iteration is 10 s of a 2 Mbit/s stream, so the share of one core a stream costs is
// (CPU time per iteration) / 10 s.
void report(benchmark::State& state, int64_t bytes_per_iteration) {
  state.SetBytesProcessed(state.iterations() * bytes_per_iteration);
}

void BM_H264Depacketize(benchmark::State& state) {
  rtp::H264Packetizer packetizer(96, 1, 0, 1400);
  std::vector<std::vector<uint8_t>> packets;
  int64_t bytes = 0;
  uint32_t ts = 0;
  for (const auto& au : access_units()) {
    packetizer.packetize(au, ts += 3600, [&](std::span<const uint8_t> p) {
      packets.emplace_back(p.begin(), p.end());
      bytes += static_cast<int64_t>(p.size());
    });
  }
  for (auto _ : state) {
    size_t units = 0;
    rtp::H264Depacketizer depacketizer([&](rtp::H264AccessUnit&& au) {
      benchmark::DoNotOptimize(au.avcc.data());
      ++units;
    });
    for (const auto& p : packets) depacketizer.push(*rtp::parse(p));
    depacketizer.flush();
    benchmark::DoNotOptimize(units);
  }
  report(state, bytes);
}
BENCHMARK(BM_H264Depacketize)->Unit(benchmark::kMicrosecond);

void BM_H264Packetize(benchmark::State& state) {
  const auto units = access_units();
  int64_t bytes = 0;
  for (const auto& au : units) bytes += static_cast<int64_t>(au.size());
  for (auto _ : state) {
    rtp::H264Packetizer packetizer(96, 1, 0, 1400);
    uint32_t ts = 0;
    size_t packets = 0;
    for (const auto& au : units) {
      packetizer.packetize(au, ts += 3600, [&](std::span<const uint8_t>) { ++packets; });
    }
    benchmark::DoNotOptimize(packets);
  }
  report(state, bytes);
}
BENCHMARK(BM_H264Packetize)->Unit(benchmark::kMicrosecond);

void BM_RtspInterleavedFrames(benchmark::State& state) {
  // 1,400-byte interleaved RTP frames back to back, as a pushing camera sends them.
  std::vector<uint8_t> stream;
  for (int i = 0; i < 1000; ++i) {
    stream.insert(stream.end(), {'$', 0, 0x05, 0x78});
    stream.insert(stream.end(), 1400, static_cast<uint8_t>(i));
  }
  for (auto _ : state) {
    std::span<const uint8_t> rest(stream);
    rtsp::Item item;
    while (!rest.empty()) rest = rest.subspan(*rtsp::parse(rest, item));
    benchmark::DoNotOptimize(item.frame_payload.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(stream.size()));
}
BENCHMARK(BM_RtspInterleavedFrames)->Unit(benchmark::kMicrosecond);

}  // namespace

namespace {

// Fan-out: one frame handed to N subscribers (each queue drained every 10 frames, as a
// viewer's loop would), the per-frame cost the publisher pays.
void BM_HubFanOut(benchmark::State& state) {
  const auto viewers = static_cast<size_t>(state.range(0));
  nj::media::hub::Hub hub;
  auto publisher = std::move(hub.publish("push/bench", {})).value();
  std::vector<std::unique_ptr<nj::media::hub::Subscription>> subs;
  for (size_t i = 0; i < viewers; ++i)
    subs.push_back(std::move(hub.subscribe("push/bench", {})).value());
  auto frame = std::make_shared<nj::media::hub::Frame>();
  frame->data.assign(8000, 1);
  std::vector<nj::media::hub::FramePtr> drained;
  int64_t n = 0;
  for (auto _ : state) {
    publisher->publish(frame);
    if (++n % 10 == 0) {
      state.PauseTiming();
      for (auto& s : subs) {
        drained.clear();
        s->queue().drain(drained);
      }
      state.ResumeTiming();
    }
  }
  state.counters["ns_per_viewer"] = benchmark::Counter(
      static_cast<double>(viewers),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
// The same stream shape as H.265 NAL units (two-byte headers; FU instead of FU-A).
void BM_H265Depacketize(benchmark::State& state) {
  rtp::H265Packetizer packetizer(96, 1, 0, 1400);
  std::vector<std::vector<uint8_t>> packets;
  int64_t bytes = 0;
  uint32_t ts = 0;
  for (auto au : access_units()) {
    const bool key = au[4] == 0x65;
    au[4] = static_cast<uint8_t>((key ? 19 : 1) << 1);  // IDR_W_RADL or TRAIL_R
    au[5] = 0x01;
    packetizer.packetize(au, ts += 3600, [&](std::span<const uint8_t> p) {
      packets.emplace_back(p.begin(), p.end());
      bytes += static_cast<int64_t>(p.size());
    });
  }
  for (auto _ : state) {
    size_t units = 0;
    rtp::H265Depacketizer depacketizer([&](rtp::H264AccessUnit&& au) {
      benchmark::DoNotOptimize(au.avcc.data());
      ++units;
    });
    for (const auto& p : packets) depacketizer.push(*rtp::parse(p));
    depacketizer.flush();
    benchmark::DoNotOptimize(units);
  }
  report(state, bytes);
}
BENCHMARK(BM_H265Depacketize)->Unit(benchmark::kMicrosecond);

// 10 s of AAC at 48 kHz (469 frames of ~340 bytes, 128 kbit/s), one frame per packet.
void BM_AacDepacketize(benchmark::State& state) {
  rtp::AacPacketizer packetizer(97, 1, 0);
  std::vector<std::vector<uint8_t>> packets;
  int64_t bytes = 0;
  std::vector<uint8_t> frame(340, 0x21);
  for (uint32_t i = 0; i < 469; ++i) {
    packetizer.packetize(frame, i * 1024, [&](std::span<const uint8_t> p) {
      packets.emplace_back(p.begin(), p.end());
      bytes += static_cast<int64_t>(p.size());
    });
  }
  for (auto _ : state) {
    size_t frames = 0;
    rtp::AacDepacketizer depacketizer([&](rtp::AacFrame&& f) {
      benchmark::DoNotOptimize(f.data.data());
      ++frames;
    });
    for (const auto& p : packets) depacketizer.push(*rtp::parse(p));
    benchmark::DoNotOptimize(frames);
  }
  report(state, bytes);
}
BENCHMARK(BM_AacDepacketize)->Unit(benchmark::kMicrosecond);

// The live fMP4 packager: 10 s of the stream into init + one moof/mdat per frame (what
// every WebSocket viewer and HLS share).
void BM_Fmp4LivePackage(benchmark::State& state) {
  const auto units = access_units();
  std::vector<hub::FramePtr> frames;
  int64_t bytes = 0;
  int64_t ts = 0;
  for (const auto& au : units) {
    auto f = std::make_shared<hub::Frame>();
    f->timestamp = ts += 3600;
    f->keyframe = au[4] == 0x65;
    f->data = au;
    bytes += static_cast<int64_t>(au.size());
    frames.push_back(std::move(f));
  }
  hub::StreamInfo info;
  info.video_codec = "H264";
  info.sps = {0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00,
              0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x32, 0x0f, 0x16, 0x2d, 0x96};
  info.pps = {0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0};
  for (auto _ : state) {
    fmp4::LivePackager packager;
    for (const auto& f : frames) benchmark::DoNotOptimize(packager.package(*f, info));
  }
  report(state, bytes);
}
BENCHMARK(BM_Fmp4LivePackage)->Unit(benchmark::kMicrosecond);

BENCHMARK(BM_HubFanOut)->Arg(1)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace
