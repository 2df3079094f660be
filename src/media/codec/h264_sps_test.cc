#include "media/codec/h264_sps.h"

#include <gtest/gtest.h>

namespace nj::media::codec {
namespace {

std::vector<uint8_t> hex(std::string_view h) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// SPS written by libx264 (via ffmpeg's testsrc2) at three sizes; 360 needs cropping.
TEST(H264Sps, SizesProfileAndLevelFromRealEncoderOutput) {
  struct Case {
    const char* sps;
    uint32_t w, h;
    uint8_t level;
  };
  const Case cases[] = {
      {"6764001facd9405005bb011000000300100000030320f1831960", 1280, 720, 31},
      {"6764000dacd94141fb011000000300100000030320f1429960", 320, 240, 13},
      {"6764001eacd940a02ff97011000003000100000300320f162d96", 640, 360, 30},
  };
  for (const auto& c : cases) {
    auto sps = parse_h264_sps(hex(c.sps));
    ASSERT_TRUE(sps) << c.sps;
    EXPECT_EQ(sps->width, c.w);
    EXPECT_EQ(sps->height, c.h);
    EXPECT_EQ(sps->profile_idc, 100);  // High
    EXPECT_EQ(sps->level_idc, c.level);
  }
  EXPECT_EQ(parse_h264_sps(hex(cases[0].sps))->codec_string(), "avc1.64001f");
}

TEST(H264Sps, RejectsGarbage) {
  EXPECT_FALSE(parse_h264_sps(hex("68eb")));      // a PPS
  EXPECT_FALSE(parse_h264_sps(hex("67640010")));  // cut short
  EXPECT_FALSE(parse_h264_sps({}));
}

TEST(H264Sps, EmulationPreventionBytesAreRemoved) {
  EXPECT_EQ(unescape_rbsp(hex("0000030100000300")), hex("000001000000"));
}

}  // namespace
}  // namespace nj::media::codec
