#include "media/codec/h265_sps.h"

#include <gtest/gtest.h>

namespace nj::media::codec {
namespace {

// The SPS libx265 wrote for a 640×360 Main-profile picture (coded as 640×368 with a
// conformance window), emulation-prevention bytes included.
const std::vector<uint8_t> kSps = {0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00,
                                   0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x3f, 0xa0, 0x05, 0x02, 0x01,
                                   0x69, 0x65, 0x95, 0x9a, 0x49, 0x32, 0xbc, 0x05, 0xa0, 0x20, 0x00,
                                   0x00, 0x03, 0x00, 0x20, 0x00, 0x00, 0x03, 0x03, 0x21};

TEST(H265Sps, SizeProfileAndLevelFromRealEncoderOutput) {
  auto sps = parse_h265_sps(kSps);
  ASSERT_TRUE(sps);
  EXPECT_EQ(sps->width, 640u);
  EXPECT_EQ(sps->height, 360u);
  EXPECT_EQ(sps->profile_idc(), 1);  // Main
  EXPECT_EQ(sps->level_idc(), 63);   // level 2.1
  EXPECT_EQ(sps->chroma_format_idc, 1);
  EXPECT_EQ(sps->bit_depth_luma, 8);
  EXPECT_EQ(sps->codec_string(), "hvc1.1.6.L63.90");
}

TEST(H265Sps, RejectsGarbageAndOtherNalUnits) {
  EXPECT_FALSE(parse_h265_sps({}));
  EXPECT_FALSE(parse_h265_sps(std::span(kSps).first(10)));
  auto vps = kSps;
  vps[0] = 0x40;  // type 32: a VPS, not an SPS
  EXPECT_FALSE(parse_h265_sps(vps));
  std::vector<uint8_t> ones(40, 0xff);
  ones[0] = 0x42;
  ones[1] = 0x01;
  EXPECT_FALSE(parse_h265_sps(ones));
}

}  // namespace
}  // namespace nj::media::codec
