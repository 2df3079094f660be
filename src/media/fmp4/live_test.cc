#include "media/fmp4/live.h"

#include <gtest/gtest.h>

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
  LiveMuxer m({"H264", kSps, kPps, 640, 360, ""});
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

}  // namespace
}  // namespace nj::media::fmp4
