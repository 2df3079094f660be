#include "media/snapshot/jpeg.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "media/rtp/h264.h"

namespace nj::media::snapshot {
namespace {

// A 160×120 IDR picture made by libx264 (testsrc2), in Annex B as ffmpeg wrote it.
std::vector<uint8_t> keyframe_avcc() {
  std::ifstream in(NJ_SNAPSHOT_TESTDATA "/keyframe_160x120.h264", std::ios::binary);
  std::vector<uint8_t> annexb((std::istreambuf_iterator<char>(in)), {});
  return rtp::annexb_to_avcc(annexb);
}

// Width and height from the JPEG's start-of-frame segment.
std::pair<int, int> jpeg_size(const std::string& jpeg) {
  for (size_t i = 2; i + 9 < jpeg.size();) {
    const auto b = [&](size_t k) { return static_cast<uint8_t>(jpeg[k]); };
    if (b(i) != 0xff) return {0, 0};
    const uint8_t marker = b(i + 1);
    const size_t length = (size_t{b(i + 2)} << 8) | b(i + 3);
    if (marker >= 0xc0 && marker <= 0xc2) {
      return {(b(i + 7) << 8) | b(i + 8), (b(i + 5) << 8) | b(i + 6)};
    }
    i += 2 + length;
  }
  return {0, 0};
}

TEST(Snapshot, DecodesAKeyframeIntoAJpeg) {
  const auto au = keyframe_avcc();
  ASSERT_FALSE(au.empty());
  auto jpeg = h264_keyframe_to_jpeg(au, {}, {});  // parameter sets are in the access unit
  ASSERT_TRUE(jpeg) << jpeg.error();
  ASSERT_GT(jpeg->size(), 500u);
  EXPECT_EQ(static_cast<uint8_t>((*jpeg)[0]), 0xff);
  EXPECT_EQ(static_cast<uint8_t>((*jpeg)[1]), 0xd8);
  EXPECT_EQ(static_cast<uint8_t>(jpeg->back()), 0xd9);
  EXPECT_EQ(jpeg_size(*jpeg), std::make_pair(160, 120));
}

TEST(Snapshot, ScalesDownKeepingTheAspectRatio) {
  auto jpeg = h264_keyframe_to_jpeg(keyframe_avcc(), {}, {}, {.max_width = 80, .quality = 5});
  ASSERT_TRUE(jpeg) << jpeg.error();
  EXPECT_EQ(jpeg_size(*jpeg), std::make_pair(80, 60));
}

TEST(Snapshot, DamagedInputIsAnErrorNotACrash) {
  auto au = keyframe_avcc();
  EXPECT_FALSE(h264_keyframe_to_jpeg(std::span(au).first(au.size() / 3), {}, {}));  // cut
  std::vector<uint8_t> garbage(4000);
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<uint8_t>(i * 37 + 11);
  EXPECT_FALSE(h264_keyframe_to_jpeg(garbage, {}, {}));
  EXPECT_FALSE(h264_keyframe_to_jpeg({}, {}, {}));
}

}  // namespace
}  // namespace nj::media::snapshot
