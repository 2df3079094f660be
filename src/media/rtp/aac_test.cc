#include "media/rtp/aac.h"

#include <gtest/gtest.h>

namespace nj::media::rtp {
namespace {

TEST(Aac, RoundTrip) {
  AacPacketizer packetizer(97, 5, 10);
  std::vector<AacFrame> out;
  AacDepacketizer depacketizer([&](AacFrame&& f) { out.push_back(std::move(f)); });
  const std::vector<uint8_t> a(300, 7), b(1000, 9);
  packetizer.packetize(a, 48000, [&](std::span<const uint8_t> p) { depacketizer.push(*parse(p)); });
  packetizer.packetize(b, 49024, [&](std::span<const uint8_t> p) { depacketizer.push(*parse(p)); });
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].data, a);
  EXPECT_EQ(out[1].data, b);
  EXPECT_EQ(out[1].timestamp - out[0].timestamp, 1024);
}

TEST(Aac, SeveralFramesInOnePacketGetTheirOwnTimes) {
  // Two AU headers (sizes 3 and 2), then the data.
  const std::vector<uint8_t> payload = {0, 32, 0, 3 << 3, 0, 2 << 3, 1, 2, 3, 4, 5};
  std::vector<uint8_t> pkt;
  write(pkt, 97, true, 1, 2048, 1, payload);
  std::vector<AacFrame> out;
  AacDepacketizer d([&](AacFrame&& f) { out.push_back(std::move(f)); });
  d.push(*parse(pkt));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].data, (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(out[1].data, (std::vector<uint8_t>{4, 5}));
  EXPECT_EQ(out[1].timestamp, 2048 + 1024);
}

TEST(Aac, MalformedPayloadsAreCounted) {
  AacDepacketizer d([](AacFrame&&) { FAIL(); });
  for (const std::vector<uint8_t>& payload :
       {std::vector<uint8_t>{0}, std::vector<uint8_t>{0, 15, 0},
        std::vector<uint8_t>{0, 16, 0xff, 0xf8, 1}, std::vector<uint8_t>{1, 0}}) {
    std::vector<uint8_t> pkt;
    write(pkt, 97, true, 1, 0, 1, payload);
    d.push(*parse(pkt));
  }
  EXPECT_EQ(d.bad_packets(), 4u);
}

}  // namespace
}  // namespace nj::media::rtp
