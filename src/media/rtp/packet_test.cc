#include "media/rtp/packet.h"

#include <gtest/gtest.h>

namespace nj::media::rtp {
namespace {

TEST(RtpPacket, WriteThenParse) {
  std::vector<uint8_t> buf;
  const uint8_t payload[] = {1, 2, 3};
  write(buf, 96, true, 65535, 0xdeadbeef, 0x01020304, payload);
  auto p = parse(buf);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->payload_type, 96);
  EXPECT_TRUE(p->marker);
  EXPECT_EQ(p->sequence, 65535);
  EXPECT_EQ(p->timestamp, 0xdeadbeef);
  EXPECT_EQ(p->ssrc, 0x01020304u);
  EXPECT_EQ(std::vector<uint8_t>(p->payload.begin(), p->payload.end()),
            (std::vector<uint8_t>{1, 2, 3}));
}

TEST(RtpPacket, CsrcExtensionAndPadding) {
  // V=2 P=1 X=1 CC=1, one CSRC, a one-word extension, payload "ab", 2 bytes of padding.
  const std::vector<uint8_t> b = {0xb1, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,  // header
                                  9,    9,    9, 9,                          // CSRC
                                  0xbe, 0xde, 0, 1, 7, 7, 7, 7,              // extension
                                  'a',  'b',  0, 2};                         // payload, padding
  auto p = parse(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->payload.size(), 2u);
  EXPECT_EQ(p->payload[0], 'a');
}

TEST(RtpPacket, MalformedPacketsAreRefused) {
  EXPECT_EQ(parse(std::vector<uint8_t>(11, 0x80)).error(), ParseError::kTooShort);
  std::vector<uint8_t> v1(12, 0);
  v1[0] = 0x40;
  EXPECT_EQ(parse(v1).error(), ParseError::kBadVersion);
  std::vector<uint8_t> csrc(12, 0);
  csrc[0] = 0x8f;  // 15 CSRCs that are not there
  EXPECT_EQ(parse(csrc).error(), ParseError::kBadCsrc);
  std::vector<uint8_t> ext(16, 0);
  ext[0] = 0x90;
  ext[14] = 0xff;  // 65535 words of extension
  EXPECT_EQ(parse(ext).error(), ParseError::kBadExtension);
  std::vector<uint8_t> pad(13, 0);
  pad[0] = 0xa0;
  pad[12] = 200;  // more padding than bytes
  EXPECT_EQ(parse(pad).error(), ParseError::kBadPadding);
  pad[12] = 0;
  EXPECT_EQ(parse(pad).error(), ParseError::kBadPadding);
}

TEST(Rtcp, SenderReportLayout) {
  std::vector<uint8_t> sr;
  write_sender_report(sr, 0x01020304, 0xAABBCCDD11223344ULL, 90000, 10, 12000);
  ASSERT_EQ(sr.size(), 28u);
  EXPECT_EQ(sr[0], 0x80);
  EXPECT_EQ(sr[1], 200);
  EXPECT_EQ(sr[3], 6);
  EXPECT_EQ(sr[4], 0x01);
  EXPECT_EQ(sr[8], 0xAA);
  EXPECT_EQ(sr[15], 0x44);
  EXPECT_EQ((uint32_t{sr[16]} << 24) | (uint32_t{sr[17]} << 16) | (uint32_t{sr[18]} << 8) | sr[19],
            90000u);
  // NTP seconds now are past 2026 (3.97e9 s since 1900).
  EXPECT_GT(ntp_now() >> 32, 3'970'000'000ULL);
}

TEST(Rtcp, SenderReportIsFoundInACompoundPacket) {
  // A receiver report first (no blocks), then the sender report, as senders may compound.
  std::vector<uint8_t> compound = {0x80, 201, 0, 1, 0, 0, 0, 9};
  const uint64_t ntp = (uint64_t{2'208'988'800 + 1'700'000'000} << 32) | 0x80000000u;  // +0.5 s
  write_sender_report(compound, 0xabcd, ntp, 123456, 10, 1000);
  auto sr = parse_sender_report(compound);
  ASSERT_TRUE(sr);
  EXPECT_EQ(sr->ssrc, 0xabcdu);
  EXPECT_EQ(sr->rtp_timestamp, 123456u);
  EXPECT_EQ(sr->unix_us(), 1'700'000'000'500'000);
  EXPECT_FALSE(parse_sender_report(std::span(compound).first(10)));  // cut short
  compound[8] = 0x40;                                                // a bad version
  EXPECT_FALSE(parse_sender_report(std::span(compound).subspan(8)));
  EXPECT_FALSE(parse_sender_report({}));
}

TEST(Unwrap, SequenceAcrossWrapAndReorder) {
  SequenceUnwrapper u;
  EXPECT_EQ(u.unwrap(65534), 65534);
  EXPECT_EQ(u.unwrap(65535), 65535);
  EXPECT_EQ(u.unwrap(0), 65536);
  EXPECT_EQ(u.unwrap(65535), 65535) << "a late packet stays before the wrap";
  EXPECT_EQ(u.unwrap(2), 65538);
}

TEST(Unwrap, TimestampAcrossWrap) {
  TimestampUnwrapper u;
  EXPECT_EQ(u.unwrap(0xffffff00u), 0xffffff00LL);
  EXPECT_EQ(u.unwrap(0x00000100u), 0x100000100LL);
  EXPECT_EQ(u.unwrap(0xfffffff0u), 0xfffffff0LL);
}

}  // namespace
}  // namespace nj::media::rtp
