#include "media/rtp/h265.h"

#include <gtest/gtest.h>

namespace nj::media::rtp {
namespace {

std::vector<uint8_t> nal(uint8_t type, size_t size, uint8_t seed) {
  std::vector<uint8_t> n(size);
  n[0] = static_cast<uint8_t>(type << 1);
  n[1] = 0x01;  // layer 0, temporal id 1
  for (size_t i = 2; i < size; ++i) n[i] = static_cast<uint8_t>(seed + i * 13);
  return n;
}

std::vector<uint8_t> lengths(const std::vector<std::vector<uint8_t>>& nals) {
  std::vector<uint8_t> out;
  for (const auto& n : nals) {
    const auto s = static_cast<uint32_t>(n.size());
    out.insert(out.end(), {uint8_t(s >> 24), uint8_t(s >> 16), uint8_t(s >> 8), uint8_t(s)});
    out.insert(out.end(), n.begin(), n.end());
  }
  return out;
}

TEST(H265, RoundTripThroughSingleAndFu) {
  const auto vps = nal(32, 24, 1), sps = nal(33, 40, 2), pps = nal(34, 8, 3);
  const auto idr = nal(19, 5000, 4);  // IDR_W_RADL, fragmented
  const auto trail = nal(1, 700, 5);
  H265Packetizer packetizer(96, 42, 65530);  // sequence numbers wrap on the way
  std::vector<H264AccessUnit> out;
  H265Depacketizer depacketizer([&](H264AccessUnit&& au) { out.push_back(std::move(au)); });
  std::vector<std::vector<uint8_t>> packets;
  auto keep = [&](std::span<const uint8_t> p) { packets.emplace_back(p.begin(), p.end()); };
  ASSERT_TRUE(packetizer.packetize(lengths({vps, sps, pps, idr}), 1000, keep));
  ASSERT_TRUE(packetizer.packetize(lengths({trail}), 4000, keep));
  EXPECT_GT(packets.size(), 6u);
  for (const auto& p : packets) depacketizer.push(*parse(p));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].avcc, lengths({vps, sps, pps, idr}));
  EXPECT_TRUE(out[0].keyframe);
  EXPECT_FALSE(out[0].damaged);
  EXPECT_EQ(out[1].avcc, lengths({trail}));
  EXPECT_FALSE(out[1].keyframe);
  EXPECT_EQ(out[1].timestamp - out[0].timestamp, 3000);
  EXPECT_EQ(depacketizer.sps(), sps);
  EXPECT_EQ(depacketizer.vps(), vps);
}

TEST(H265, AggregationPacketsAreSplit) {
  const auto vps = nal(32, 10, 1), sps = nal(33, 12, 2);
  std::vector<uint8_t> ap = {48 << 1, 0x01};
  for (const auto& n : {vps, sps}) {
    ap.push_back(static_cast<uint8_t>(n.size() >> 8));
    ap.push_back(static_cast<uint8_t>(n.size()));
    ap.insert(ap.end(), n.begin(), n.end());
  }
  std::vector<uint8_t> packet;
  write(packet, 96, true, 1, 0, 1, ap);
  std::vector<H264AccessUnit> out;
  H265Depacketizer depacketizer([&](H264AccessUnit&& au) { out.push_back(std::move(au)); });
  depacketizer.push(*parse(packet));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].avcc, lengths({vps, sps}));
}

TEST(H265, AnAggregateStartsAKeyframesBufferOnlyIfItHoldsParameterSetsOrAnIrapSlice) {
  const auto vps = nal(32, 10, 1), sps = nal(33, 12, 2), pps = nal(34, 6, 3);
  const auto idr = nal(19, 40000, 4), sei = nal(39, 9, 5), trail = nal(1, 800, 6);
  const auto small = nal(1, 90, 7);
  auto ap = [](const std::vector<std::vector<uint8_t>>& nals) {
    std::vector<uint8_t> payload = {48 << 1, 0x01};
    for (const auto& n : nals) {
      payload.push_back(static_cast<uint8_t>(n.size() >> 8));
      payload.push_back(static_cast<uint8_t>(n.size()));
      payload.insert(payload.end(), n.begin(), n.end());
    }
    return payload;
  };
  std::vector<std::vector<uint8_t>> packets(6);
  write(packets[0], 96, false, 1, 1000, 1, ap({vps, sps, pps}));
  write(packets[1], 96, true, 2, 1000, 1, idr);
  write(packets[2], 96, true, 3, 4000, 1, trail);
  write(packets[3], 96, true, 4, 7000, 1, ap({sei, small}));  // a predicted picture
  write(packets[4], 96, false, 5, 10000, 1, ap({vps, sps, pps}));
  write(packets[5], 96, true, 6, 10000, 1, idr);
  std::vector<H264AccessUnit> out;
  H265Depacketizer depacketizer([&](H264AccessUnit&& au) { out.push_back(std::move(au)); });
  for (const auto& p : packets) depacketizer.push(*parse(p));
  depacketizer.flush();
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[2].avcc, lengths({sei, small}));
  EXPECT_FALSE(out[2].keyframe);
  EXPECT_LT(out[2].avcc.capacity(), 2000u);  // a predicted picture's size, not the IRAP's
  EXPECT_TRUE(out[3].keyframe);
  EXPECT_GE(out[3].avcc.capacity(), 40000u);
}

TEST(H265, HostilePayloadsAreCountedNeverCrash) {
  H265Depacketizer depacketizer([](H264AccessUnit&& au) {
    ASSERT_TRUE(for_each_avcc_nal(au.avcc, [](std::span<const uint8_t>) {}));
  });
  uint16_t seq = 0;
  for (std::vector<uint8_t> payload :
       {std::vector<uint8_t>{0x80, 0x01, 0x00},              // forbidden bit
        std::vector<uint8_t>{48 << 1, 0x01, 0xff, 0xff, 1},  // AP size past the end
        std::vector<uint8_t>{49 << 1, 0x01, 0x13, 1, 2},     // FU middle without start
        std::vector<uint8_t>{49 << 1, 0x01, 0x93, 1, 2},     // FU start, never ended
        std::vector<uint8_t>{50 << 1, 0x01, 0, 0},           // PACI: unsupported
        std::vector<uint8_t>{1}}) {
    std::vector<uint8_t> packet;
    write(packet, 96, true, seq++, 0, 1, payload);
    depacketizer.push(*parse(packet));
  }
  depacketizer.flush();
  EXPECT_GE(depacketizer.stats().bad_packets, 3u);
  EXPECT_EQ(depacketizer.stats().unsupported, 1u);
}

}  // namespace
}  // namespace nj::media::rtp
