#include "media/fmp4/replay.h"

#include <gtest/gtest.h>

#include "media/fmp4/muxer.h"

namespace nj::media::fmp4 {
namespace {

const std::vector<uint8_t> kSps = {0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0};
const std::vector<uint8_t> kPps = {0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0};

TEST(Fmp4Replay, H264AndAacComeBackAsTheStreamTheyWere) {
  H264Track v;
  v.timescale = 90000;
  v.width = 640;
  v.height = 360;
  v.sps = kSps;
  v.pps = kPps;
  AudioTrack a;
  a.sample_rate = 16000;
  a.channels = 1;
  a.config = {0x14, 0x08};
  auto bytes = init_segment(v, &a);
  const size_t init_size = bytes.size();
  const std::vector<uint8_t> key = {0, 0, 0, 3, 0x65, 1, 2};
  const Sample vs[] = {{180000, 3600, 1800, true, key}};
  const auto fragment = media_segment(1, 1, vs);
  bytes.insert(bytes.end(), fragment.begin(), fragment.end());

  const auto d = demux(bytes);
  ASSERT_FALSE(d.error);
  const auto tracks = replay_tracks(d.init);
  ASSERT_TRUE(tracks) << tracks.error();
  EXPECT_EQ(tracks->info.video_codec, "H264");
  EXPECT_EQ(tracks->info.sps, kSps);
  EXPECT_EQ(tracks->info.pps, kPps);
  EXPECT_EQ(tracks->info.width, 640u);
  EXPECT_EQ(tracks->info.audio_codec, "AAC");
  EXPECT_EQ(tracks->info.audio_config, a.config);
  EXPECT_EQ(tracks->info.audio_sample_rate, 16000u);
  EXPECT_EQ(tracks->info.audio_channels, 1);

  ASSERT_EQ(d.fragments.size(), 1u);
  const auto& sample = d.fragments[0].samples.at(0);
  const auto frame = replay_frame(
      *tracks, sample, std::span<const uint8_t>(bytes).subspan(init_size, d.fragments[0].size));
  ASSERT_TRUE(frame);
  EXPECT_TRUE(frame->keyframe);
  EXPECT_EQ(frame->timestamp, 181800) << "presentation time on the 90 kHz clock";
  EXPECT_EQ(frame->data, key);
  // A sample whose bytes lie outside what was given is refused, not read.
  DemuxSample outside = sample;
  outside.offset = 1'000'000;
  EXPECT_FALSE(replay_frame(*tracks, outside, bytes));
  outside = sample;
  outside.track_id = 9;
  EXPECT_FALSE(replay_frame(*tracks, outside, bytes)) << "a track that is not replayed";
}

TEST(Fmp4Replay, H265OpusAndFlac) {
  H264Track v;
  v.codec = H264Track::Codec::kH265;
  v.timescale = 1000;  // another clock: converted to 90 kHz
  v.width = 320;
  v.height = 240;
  v.vps = {0x40, 0x01, 0x0c};
  v.sps = {0x42, 0x01, 0x01, 0x01};
  v.pps = {0x44, 0x01, 0xc1};
  AudioTrack opus;
  opus.codec = AudioTrack::Codec::kOpus;
  opus.sample_rate = 48000;
  const auto d = demux(init_segment(v, &opus));
  const auto tracks = replay_tracks(d.init);
  ASSERT_TRUE(tracks) << tracks.error();
  EXPECT_EQ(tracks->info.video_codec, "H265");
  EXPECT_EQ(tracks->info.vps, v.vps);
  EXPECT_EQ(tracks->info.sps, v.sps);
  EXPECT_EQ(tracks->info.pps, v.pps);
  EXPECT_EQ(tracks->info.audio_codec, "OPUS");
  DemuxSample s;
  s.track_id = tracks->video_track;
  s.decode_time = 2000;  // 2 s at 1 kHz
  s.size = 0;
  EXPECT_EQ(replay_frame(*tracks, s, {})->timestamp, 180000);

  // FLAC (G.711 made playable for browsers) is left out; the video still replays.
  AudioTrack flac;
  flac.codec = AudioTrack::Codec::kFlac;
  flac.sample_rate = 8000;
  flac.channels = 1;
  flac.config.assign(34, 0);
  const auto with_flac = replay_tracks(demux(init_segment(v, &flac)).init);
  ASSERT_TRUE(with_flac);
  EXPECT_EQ(with_flac->audio_track, 0u);
  EXPECT_TRUE(with_flac->info.audio_codec.empty());
}

TEST(Fmp4Replay, BrokenConfigsAreRefused) {
  DemuxInit init;
  DemuxTrack t;
  t.track_id = 1;
  t.timescale = 90000;
  t.handler = "vide";
  t.codec = "avc1";
  for (const std::vector<uint8_t>& config :
       {std::vector<uint8_t>{}, std::vector<uint8_t>{1, 0x64, 0, 0x1e, 0xff, 0xe1, 0, 50, 0x67},
        std::vector<uint8_t>{1, 0x64, 0, 0x1e, 0xfd, 0xe1, 0, 1, 0x67, 1, 0, 1, 0x68},
        std::vector<uint8_t>{1, 0x64, 0, 0x1e, 0xff, 0xe0, 0}}) {
    t.config = config;
    init.tracks = {t};
    EXPECT_FALSE(replay_tracks(init)) << config.size();
  }
  t.codec = "mp4v";
  init.tracks = {t};
  EXPECT_FALSE(replay_tracks(init));
  init.tracks.clear();
  EXPECT_FALSE(replay_tracks(init)) << "no video";
}

}  // namespace
}  // namespace nj::media::fmp4
