#include "media/hls/live_hls.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

namespace nj::media::hls {
namespace {

const std::vector<uint8_t> kSps = {0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f,
                                   0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00,
                                   0x00, 0x03, 0x00, 0x32, 0x0f, 0x16, 0x2d, 0x96};
const std::vector<uint8_t> kPps = {0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0};

// A 25 fps stream with a keyframe every `gop` frames, packaged as the hub would.
struct Feed {
  explicit Feed(LiveHls& h, int g) : hls(h), gop(g) {
    info.video_codec = "H264";
    info.sps = kSps;
    info.pps = kPps;
  }
  void frames(int n) {
    for (int i = 0; i < n; ++i, ++index) {
      hub::Frame f;
      f.timestamp = 1'000'000 + index * 3600;
      f.keyframe = index % gop == 0;
      f.data = {0, 0, 0, 3, static_cast<uint8_t>(f.keyframe ? 0x65 : 0x41), 1, 2};
      auto packaged = packager.package(f, info);
      hls.push(f, std::static_pointer_cast<const fmp4::LiveFragment>(packaged));
    }
  }
  LiveHls& hls;
  int gop;
  int index = 0;
  hub::StreamInfo info;
  fmp4::LivePackager packager;
};

std::vector<double> values(const std::string& text, const std::string& tag) {
  std::vector<double> out;
  std::regex re(tag + "([0-9.]+)");
  for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it) {
    out.push_back(std::stod((*it)[1]));
  }
  return out;
}

TEST(LiveHls, PlaylistHasTheLowLatencyTagsAndHonestDurations) {
  LiveHls hls;
  Feed feed(hls, 25);  // a keyframe a second
  EXPECT_EQ(hls.playlist("?token=t"), "") << "nothing to list before a segment is complete";
  {
    LiveHls early;
    Feed partial(early, 25);
    partial.frames(20);
    EXPECT_TRUE(early.available(0, 0));
    EXPECT_EQ(early.playlist(""), "") << "parts alone are not enough for every player";
  }
  feed.frames(25 * 3 + 5);
  const auto text = hls.playlist("?token=t");
  EXPECT_EQ(text.rfind("#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:1\n", 0), 0u) << text;
  EXPECT_NE(text.find("#EXT-X-PART-INF:PART-TARGET=0.500"), std::string::npos);
  EXPECT_NE(text.find("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.500"),
            std::string::npos);
  EXPECT_NE(text.find("#EXT-X-MAP:URI=\"hls/init.mp4?token=t\""), std::string::npos);
  EXPECT_NE(text.find("#EXT-X-MEDIA-SEQUENCE:0\n"), std::string::npos);
  EXPECT_NE(text.find("#EXTINF:1.000,\nhls/s0.m4s?token=t\n"), std::string::npos) << text;
  EXPECT_NE(text.find("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"hls/p3.0.m4s?token=t\""),
            std::string::npos)
      << text;
  // Every part fits the part target; the parts of a complete segment add up to its EXTINF.
  for (double d : values(text, "#EXT-X-PART:DURATION=")) EXPECT_LE(d, 0.5);
  const auto segments = values(text, "#EXTINF:");
  ASSERT_EQ(segments.size(), 3u);
  for (double d : segments) EXPECT_DOUBLE_EQ(d, 1.0);
  EXPECT_TRUE(hls.available(1, 0));
  EXPECT_TRUE(hls.available(2, -1));
  EXPECT_FALSE(hls.available(3, -1));  // in progress
  EXPECT_TRUE(hls.available(3, 0) == false) << "the first part of segment 3 is not complete";
  EXPECT_TRUE(hls.reachable(4));
  EXPECT_FALSE(hls.reachable(5));
  // A segment's bytes are its parts' bytes, in order; the first part starts with a keyframe.
  std::string parts;
  for (int k = 0; hls.part(1, k); ++k) parts += *hls.part(1, k);
  EXPECT_EQ(*hls.segment(1), parts);
  EXPECT_TRUE(hls.init());
}

TEST(LiveHls, TheWindowSlidesAndOldMediaGoes) {
  LiveHls hls(Options{.part_target_seconds = 0.5,
                      .min_segment_seconds = 1.0,
                      .window_segments = 3,
                      .segments_with_parts = 2});
  Feed feed(hls, 50);  // a keyframe every 2 s: segments of 2 s
  feed.frames(50 * 6 + 1);
  const auto text = hls.playlist("");
  EXPECT_NE(text.find("#EXT-X-TARGETDURATION:2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("#EXT-X-MEDIA-SEQUENCE:3\n"), std::string::npos) << text;
  EXPECT_EQ(values(text, "#EXTINF:").size(), 3u);
  EXPECT_TRUE(hls.too_old(2));
  EXPECT_FALSE(hls.segment(2));
  EXPECT_TRUE(hls.segment(3));
  // Only the newest segments list their parts.
  EXPECT_EQ(text.find("p3."), std::string::npos);
  EXPECT_NE(text.find("p5.0.m4s"), std::string::npos);
}

TEST(LiveHls, StartsAtAKeyframeAndNeverGoesBackInTime) {
  LiveHls hls;
  Feed feed(hls, 25);
  feed.index = 3;  // join mid-GOP: nothing until the keyframe at frame 25
  feed.frames(21);
  EXPECT_EQ(hls.playlist(""), "");
  feed.frames(30);
  EXPECT_NE(hls.playlist(""), "");
  const auto before = hls.playlist("");
  hub::Frame old;  // a repeated timestamp is ignored
  old.timestamp = 1'000'000 + 50 * 3600;
  hls.push(old, std::make_shared<fmp4::LiveFragment>());
  EXPECT_EQ(hls.playlist(""), before);
}

}  // namespace
}  // namespace nj::media::hls
