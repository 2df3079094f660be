#include "media/rtp/h264.h"

#include <gtest/gtest.h>

#include <random>

namespace nj::media::rtp {
namespace {

std::vector<uint8_t> nal(uint8_t header, size_t size, uint8_t seed) {
  std::vector<uint8_t> n(size);
  n[0] = header;
  for (size_t i = 1; i < size; ++i) n[i] = static_cast<uint8_t>(seed + i * 7);
  return n;
}

std::vector<uint8_t> avcc_of(const std::vector<std::vector<uint8_t>>& nals) {
  std::vector<uint8_t> out;
  for (const auto& n : nals) {
    const auto s = static_cast<uint32_t>(n.size());
    out.insert(out.end(), {uint8_t(s >> 24), uint8_t(s >> 16), uint8_t(s >> 8), uint8_t(s)});
    out.insert(out.end(), n.begin(), n.end());
  }
  return out;
}

struct Capture {
  std::vector<H264AccessUnit> units;
  H264Depacketizer depacketizer{[this](H264AccessUnit&& au) { units.push_back(std::move(au)); }};
  void feed(const std::vector<std::vector<uint8_t>>& packets) {
    for (const auto& bytes : packets) depacketizer.push(*parse(bytes));
  }
};

std::vector<std::vector<uint8_t>> packetize(H264Packetizer& p, const std::vector<uint8_t>& avcc,
                                            uint32_t ts) {
  std::vector<std::vector<uint8_t>> packets;
  EXPECT_TRUE(p.packetize(avcc, ts, [&](std::span<const uint8_t> pkt) {
    packets.emplace_back(pkt.begin(), pkt.end());
  }));
  return packets;
}

TEST(H264, RoundTripThroughSingleAndFuA) {
  const auto sps = nal(0x67, 20, 1), pps = nal(0x68, 5, 2), idr = nal(0x65, 50000, 3);
  const auto p_slice = nal(0x41, 900, 4);
  const auto key = avcc_of({sps, pps, idr});
  const auto delta = avcc_of({p_slice});
  for (size_t mtu : {200u, 1400u}) {
    H264Packetizer packetizer(96, 1234, 65530, mtu);  // the sequence wraps during the test
    Capture c;
    auto packets = packetize(packetizer, key, 3000);
    for (const auto& pkt : packets) EXPECT_LE(pkt.size(), mtu);
    c.feed(packets);
    c.feed(packetize(packetizer, delta, 6000));
    ASSERT_EQ(c.units.size(), 2u) << mtu;
    EXPECT_EQ(c.units[0].avcc, key);
    EXPECT_TRUE(c.units[0].keyframe);
    EXPECT_FALSE(c.units[0].damaged);
    EXPECT_EQ(c.units[0].timestamp, 3000);
    EXPECT_EQ(c.units[1].avcc, delta);
    EXPECT_FALSE(c.units[1].keyframe);
    EXPECT_EQ(c.depacketizer.sps(), sps);
    EXPECT_EQ(c.depacketizer.pps(), pps);
    EXPECT_EQ(c.depacketizer.stats().lost_packets, 0u);
  }
}

TEST(H264, StapAIsSplitIntoItsNalUnits) {
  const auto sps = nal(0x67, 10, 1), pps = nal(0x68, 4, 2);
  std::vector<uint8_t> payload = {0x78};  // STAP-A, NRI 3
  for (const auto& n : {sps, pps}) {
    payload.push_back(uint8_t(n.size() >> 8));
    payload.push_back(uint8_t(n.size()));
    payload.insert(payload.end(), n.begin(), n.end());
  }
  std::vector<uint8_t> pkt;
  write(pkt, 96, false, 1, 90000, 1, payload);
  const auto idr = nal(0x65, 100, 5);
  std::vector<uint8_t> pkt2;
  write(pkt2, 96, true, 2, 90000, 1, idr);
  Capture c;
  c.feed({pkt, pkt2});
  ASSERT_EQ(c.units.size(), 1u);
  EXPECT_EQ(c.units[0].avcc, avcc_of({sps, pps, idr}));
  EXPECT_TRUE(c.units[0].keyframe);
}

TEST(H264, AnAggregateStartsAKeyframesBufferOnlyIfItHoldsParameterSetsOrAnIdrSlice) {
  const auto sps = nal(0x67, 10, 1), pps = nal(0x68, 4, 2), idr = nal(0x65, 50000, 3);
  const auto sei = nal(0x06, 12, 4), p_slice = nal(0x41, 900, 5), small = nal(0x41, 100, 6);
  auto stap = [](const std::vector<std::vector<uint8_t>>& nals) {
    std::vector<uint8_t> payload = {0x78};
    for (const auto& n : nals) {
      payload.push_back(uint8_t(n.size() >> 8));
      payload.push_back(uint8_t(n.size()));
      payload.insert(payload.end(), n.begin(), n.end());
    }
    return payload;
  };
  std::vector<std::vector<uint8_t>> packets(6);
  write(packets[0], 96, false, 1, 1000, 1, stap({sps, pps}));
  write(packets[1], 96, true, 2, 1000, 1, idr);
  write(packets[2], 96, true, 3, 4000, 1, p_slice);
  write(packets[3], 96, true, 4, 7000, 1, stap({sei, small}));  // a predicted frame
  write(packets[4], 96, false, 5, 10000, 1, stap({sps, pps}));  // the next keyframe
  write(packets[5], 96, true, 6, 10000, 1, idr);
  Capture c;
  c.feed(packets);
  c.depacketizer.flush();
  ASSERT_EQ(c.units.size(), 4u);
  EXPECT_EQ(c.units[2].avcc, avcc_of({sei, small}));
  EXPECT_FALSE(c.units[2].keyframe);
  // The buffer is reserved at the size of the last frame of the kind the first packet
  // announces: a predicted frame's, not the 50 KB keyframe's.
  EXPECT_LT(c.units[2].avcc.capacity(), 2000u);
  EXPECT_TRUE(c.units[3].keyframe);
  EXPECT_GE(c.units[3].avcc.capacity(), 50000u);
}

TEST(H264, LossMarksTheAccessUnitDamagedAndDropsTheBrokenFragment) {
  const auto big = avcc_of({nal(0x06, 20, 8), nal(0x65, 5000, 9)});  // SEI, then a big IDR
  H264Packetizer packetizer(96, 1, 100, 1000);
  auto packets = packetize(packetizer, big, 0);
  ASSERT_GT(packets.size(), 3u);
  packets.erase(packets.begin() + 3);  // lose a middle fragment of the IDR
  const auto next = avcc_of({nal(0x41, 300, 1)});
  auto more = packetize(packetizer, next, 3000);
  Capture c;
  c.feed(packets);
  c.feed(more);
  EXPECT_EQ(c.depacketizer.stats().lost_packets, 1u);
  ASSERT_EQ(c.units.size(), 2u);
  EXPECT_TRUE(c.units[0].damaged);
  EXPECT_EQ(c.units[0].avcc, avcc_of({nal(0x06, 20, 8)})) << "the broken NAL unit is cut off";
  EXPECT_EQ(c.units[1].avcc, next);
  EXPECT_FALSE(c.units[1].damaged);
}

TEST(H264, TimestampChangeEndsAnAccessUnitWithoutMarker) {
  std::vector<uint8_t> a, b;
  write(a, 96, false, 1, 1000, 1, nal(0x41, 10, 1));
  write(b, 96, false, 2, 4000, 1, nal(0x41, 10, 2));
  Capture c;
  c.feed({a, b});
  EXPECT_EQ(c.units.size(), 1u);
  c.depacketizer.flush();
  EXPECT_EQ(c.units.size(), 2u);
}

TEST(H264, MalformedPayloadsAreCountedNeverCrash) {
  std::mt19937 rng(7);
  Capture c;
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> payload(rng() % 40);
    for (auto& x : payload) x = static_cast<uint8_t>(rng());
    std::vector<uint8_t> pkt;
    write(pkt, 96, rng() % 4 == 0, static_cast<uint16_t>(i), static_cast<uint32_t>(i / 3), 1,
          payload);
    c.depacketizer.push(*parse(pkt));
  }
  c.depacketizer.flush();
  for (const auto& au : c.units) EXPECT_TRUE(for_each_avcc_nal(au.avcc, [](auto) {}));
  EXPECT_GT(c.depacketizer.stats().bad_packets + c.depacketizer.stats().unsupported, 0u);
}

TEST(H264, RepeatedParameterSetsBetweenSlicesAreLeftOut) {
  // AUD, SPS, PPS, IDR slice, SPS, PPS (copies), IDR slice: one picture in two slices.
  const auto sps = nal(0x67, 12, 1), pps = nal(0x68, 4, 2);
  const auto slice1 = nal(0x65, 300, 3), slice2 = nal(0x65, 300, 4);
  H264Packetizer packetizer(96, 1, 100);
  Capture c;
  c.feed(
      packetize(packetizer, avcc_of({nal(0x09, 2, 0), sps, pps, slice1, sps, pps, slice2}), 9000));
  ASSERT_EQ(c.units.size(), 1u);
  EXPECT_EQ(c.units[0].avcc, avcc_of({nal(0x09, 2, 0), sps, pps, slice1, slice2}));
  // A different SPS after a slice is kept: it is news, not a copy.
  const auto other_sps = nal(0x67, 12, 9);
  c.feed(packetize(packetizer, avcc_of({sps, pps, slice1, other_sps}), 12600));
  c.depacketizer.flush();
  ASSERT_EQ(c.units.size(), 2u);
  EXPECT_EQ(c.units[1].avcc, avcc_of({sps, pps, slice1, other_sps}));
}

TEST(H264, AnnexBToAvcc) {
  const std::vector<uint8_t> annexb = {0,    0, 0, 1, 0x67, 1, 2,    0, 0, 1,
                                       0x68, 3, 0, 0, 0,    1, 0x65, 4, 5};
  EXPECT_EQ(annexb_to_avcc(annexb), avcc_of({{0x67, 1, 2}, {0x68, 3}, {0x65, 4, 5}}));
  EXPECT_TRUE(annexb_to_avcc(std::vector<uint8_t>{1, 2, 3}).empty());
}

TEST(H264, MalformedAvccIsRefusedByThePacketizer) {
  H264Packetizer p(96, 1, 0);
  const std::vector<uint8_t> bad = {0, 0, 0, 9, 0x65, 1};
  EXPECT_FALSE(p.packetize(bad, 0, [](auto) { FAIL(); }));
}

}  // namespace
}  // namespace nj::media::rtp
