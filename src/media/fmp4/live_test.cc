#include "media/fmp4/live.h"

#include <gtest/gtest.h>

#include <map>

#include "media/fmp4/demux.h"

namespace nj::media::fmp4 {
namespace {

const std::vector<uint8_t> kSps = {0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f,
                                   0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00,
                                   0x00, 0x03, 0x00, 0x32, 0x0f, 0x16, 0x2d, 0x96};
const std::vector<uint8_t> kPps = {0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0};

hub::Frame frame(int64_t ts, bool key, std::vector<uint8_t> data = {0, 0, 0, 2, 0x41, 1}) {
  hub::Frame f;
  f.timestamp = ts;
  f.keyframe = key;
  f.data = std::move(data);
  return f;
}

uint64_t tfdt(const std::vector<uint8_t>& seg) {
  // moof(8) mfhd(16) traf(8) tfhd(16) tfdt: size(4) type(4) version/flags(4) time(8)
  const size_t at = 8 + 16 + 8 + 16 + 12;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | seg[at + static_cast<size_t>(i)];
  return v;
}

TEST(LiveMuxer, WaitsForAKeyframeThenStartsAtZero) {
  hub::StreamInfo info;
  info.video_codec = "H264";
  info.sps = kSps;
  info.pps = kPps;
  LiveMuxer m(info);
  EXPECT_TRUE(m.push(frame(1000, false)).fragment.empty());
  auto first = m.push(frame(5000, true));
  ASSERT_TRUE(first.init);
  EXPECT_EQ(first.codec, "avc1.64001e");
  EXPECT_EQ(first.width, 640u);
  EXPECT_EQ(tfdt(first.fragment), 0u);
  auto second = m.push(frame(8600, false));
  EXPECT_FALSE(second.init);
  EXPECT_EQ(tfdt(second.fragment), 3600u);
  EXPECT_TRUE(m.push(frame(8600, false)).fragment.empty()) << "no going back in time";
}

TEST(LiveMuxer, TakesParameterSetsFromTheKeyframeWhenNotAnnounced) {
  LiveMuxer m({});
  std::vector<uint8_t> key;
  for (const auto& nal : {kSps, kPps, std::vector<uint8_t>{0x65, 1, 2}}) {
    key.insert(key.end(), {0, 0, 0, static_cast<uint8_t>(nal.size())});
    key.insert(key.end(), nal.begin(), nal.end());
  }
  auto out = m.push(frame(0, true, key));
  ASSERT_TRUE(out.init);
  EXPECT_EQ(out.height, 360u);
}

TEST(LiveMuxer, AudioJoinsAlignedByArrivalTime) {
  hub::StreamInfo info;
  info.sps = kSps;
  info.pps = kPps;
  info.audio_codec = "AAC";
  info.audio_sample_rate = 48000;
  info.audio_channels = 1;
  info.audio_config = {0x11, 0x88};
  LiveMuxer m(info);
  hub::Frame early;
  early.track = hub::TrackKind::kAudio;
  early.timestamp = 777;
  early.data = {1, 2, 3};
  EXPECT_TRUE(m.push(early).fragment.empty()) << "audio waits for the first keyframe";
  auto key = frame(90000, true);
  key.received_at_us = 1'000'000;
  auto first = m.push(key);
  ASSERT_TRUE(first.init);
  EXPECT_EQ(first.codec, "avc1.64001e,mp4a.40.2");
  hub::Frame audio;
  audio.track = hub::TrackKind::kAudio;
  audio.timestamp = 500'000;         // its own clock, unrelated to the video's
  audio.received_at_us = 1'100'000;  // arrived 100 ms after the keyframe
  audio.data = {9, 9};
  auto a = m.push(audio);
  ASSERT_FALSE(a.fragment.empty());
  EXPECT_EQ(tfdt(a.fragment), 4800u) << "100 ms at 48 kHz";
  audio.timestamp += 1024;
  audio.received_at_us += 21'333;
  EXPECT_EQ(tfdt(m.push(audio).fragment), 4800u + 1024u);
}

// With the camera's clock (RTCP sender reports → capture times), audio lands where it was
// captured, however late it arrived.
TEST(LiveMuxer, AudioAlignedByTheCamerasClockWhenKnown) {
  hub::StreamInfo info;
  info.sps = kSps;
  info.pps = kPps;
  info.audio_codec = "AAC";
  info.audio_sample_rate = 48000;
  info.audio_channels = 1;
  info.audio_config = {0x11, 0x88};
  LiveMuxer m(info);
  auto key = frame(90000, true);
  key.received_at_us = 1'000'000;
  key.capture_us = 1'700'000'000'000'000;
  ASSERT_TRUE(m.push(key).init);
  hub::Frame audio;
  audio.track = hub::TrackKind::kAudio;
  audio.timestamp = 500'000;
  audio.received_at_us = 1'400'000;                   // arrived 400 ms after the keyframe…
  audio.capture_us = 1'700'000'000'000'000 + 20'000;  // …but was captured 20 ms after it
  audio.data = {9, 9};
  EXPECT_EQ(tfdt(m.push(audio).fragment), 960u) << "20 ms at 48 kHz";
}

// Read back with the demuxer, a live feed is one stream: each video frame sits at its own
// timestamp (its duration is a guess, as it goes out before the next one is known), audio
// samples follow each other exactly, fragments count up, and the bytes are the frames'.
TEST(LiveMuxer, ItsOutputReadsBackAsOneContinuousStream) {
  hub::StreamInfo info;
  info.sps = kSps;
  info.pps = kPps;
  info.audio_codec = "AAC";
  info.audio_sample_rate = 48000;
  info.audio_channels = 1;
  info.audio_config = {0x11, 0x88};
  LiveMuxer m(info);
  std::vector<uint8_t> stream;
  std::vector<std::vector<uint8_t>> video_sent;
  std::vector<int64_t> video_times;
  int64_t video_ts = 90000, audio_ts = 7;
  for (int i = 0; i < 60; ++i) {
    // 25 fps with jitter in the camera's timestamps, and two AAC frames per video frame.
    auto v = frame(
        video_ts, i % 25 == 0,
        {0, 0, 0, 3, static_cast<uint8_t>(i % 25 == 0 ? 0x65 : 0x41), static_cast<uint8_t>(i), 1});
    v.received_at_us = 1'000'000 + i * 40'000;
    auto out = m.push(v);
    if (out.init) stream.insert(stream.end(), out.init->begin(), out.init->end());
    stream.insert(stream.end(), out.fragment.begin(), out.fragment.end());
    video_sent.push_back(v.data);
    video_times.push_back(video_ts - 90000);
    video_ts += 3600 + (i % 3 == 0 ? 90 : -45);
    for (int k = 0; k < 2; ++k) {
      hub::Frame a;
      a.track = hub::TrackKind::kAudio;
      a.timestamp = audio_ts;
      a.received_at_us = v.received_at_us + k * 21'333;
      a.data = {static_cast<uint8_t>(i), static_cast<uint8_t>(k)};
      audio_ts += 1024;
      auto aout = m.push(a);
      stream.insert(stream.end(), aout.fragment.begin(), aout.fragment.end());
    }
  }
  const auto d = demux(stream);
  ASSERT_FALSE(d.error) << demux_error_name(*d.error);
  EXPECT_EQ(d.complete, stream.size());
  ASSERT_EQ(d.init.tracks.size(), 2u);
  std::map<uint32_t, int64_t> next_time;
  std::map<uint32_t, size_t> count;
  uint32_t sequence = 0;
  size_t fragment_at = stream.size();  // where each fragment starts: after the init segment
  for (const auto& f : d.fragments) fragment_at -= f.size;
  for (const auto& f : d.fragments) {
    EXPECT_GT(f.sequence, sequence);
    sequence = f.sequence;
    for (const auto& s : f.samples) {
      if (s.track_id == 2 && next_time.contains(s.track_id)) {
        EXPECT_EQ(s.decode_time, next_time[s.track_id]);
      }
      next_time[s.track_id] = s.decode_time + s.duration;
      if (s.track_id == 1) {
        const auto& sent = video_sent[count[1]];
        EXPECT_EQ(s.decode_time, video_times[count[1]]);
        EXPECT_EQ(s.keyframe, count[1] % 25 == 0);
        ASSERT_EQ(s.size, sent.size());
        EXPECT_TRUE(std::equal(sent.begin(), sent.end(),
                               stream.begin() + static_cast<long>(fragment_at + s.offset)));
      }
      ++count[s.track_id];
    }
    fragment_at += f.size;
  }
  EXPECT_EQ(count[1], 60u) << "each frame goes out at once";
  EXPECT_GE(count[2], 110u);
}

}  // namespace
}  // namespace nj::media::fmp4
