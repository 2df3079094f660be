#include "talk_codec.h"

#include <gtest/gtest.h>

#include <cmath>

#include "media/codec/audio.h"
#include "media/rtp/packet.h"

namespace nj::cam {
namespace {

media::sdp::Media section(const std::string& encoding, uint32_t rate, int pt, int channels = 1) {
  media::sdp::Media m;
  m.type = "audio";
  m.encoding = encoding;
  m.clock_rate = rate;
  m.payload_type = pt;
  m.channels = channels;
  return m;
}

// `seconds` of a 1 kHz tone, 8 kHz µ-law.
std::vector<uint8_t> tone(double seconds) {
  std::vector<uint8_t> out;
  for (int i = 0; i < static_cast<int>(seconds * 8000); ++i) {
    out.push_back(media::codec::pcm_to_ulaw(
        static_cast<int16_t>(8000 * std::sin(2 * M_PI * 1000 * i / 8000.0))));
  }
  return out;
}

struct Sent {
  std::vector<media::rtp::Packet> packets;
  std::vector<std::vector<uint8_t>> bytes;
};

Sent encode_in_20ms(BackchannelEncoder& e, const std::vector<uint8_t>& ulaw) {
  Sent sent;
  for (size_t at = 0; at < ulaw.size(); at += 160) {
    e.encode(std::span(ulaw).subspan(at, std::min<size_t>(160, ulaw.size() - at)),
             [&](std::span<const uint8_t> p) { sent.bytes.emplace_back(p.begin(), p.end()); });
  }
  for (const auto& b : sent.bytes) {
    auto p = media::rtp::parse(b);
    EXPECT_TRUE(p);
    if (p) sent.packets.push_back(*p);
  }
  return sent;
}

TEST(BackchannelEncoder, TakesWhatItCanMakeAndNothingElse) {
  EXPECT_TRUE(BackchannelEncoder::takes(section("PCMU", 8000, 0)));
  EXPECT_TRUE(BackchannelEncoder::takes(section("pcma", 8000, 8)));
  EXPECT_TRUE(BackchannelEncoder::takes(section("OPUS", 48000, 96, 2)));
  EXPECT_TRUE(BackchannelEncoder::takes(section("MPEG4-GENERIC", 16000, 96)));
  EXPECT_FALSE(BackchannelEncoder::takes(section("PCMU", 16000, 0)));
  EXPECT_FALSE(BackchannelEncoder::takes(section("G726-32", 8000, 97)));
  EXPECT_FALSE(BackchannelEncoder::takes(section("MPEG4-GENERIC", 17000, 96)));
  EXPECT_FALSE(BackchannelEncoder::takes(section("MPEG4-GENERIC", 16000, 96, 6)));
  EXPECT_FALSE(BackchannelEncoder::takes(section("PCMU", 8000, 200)));
  auto video = section("PCMU", 8000, 0);
  video.type = "video";
  EXPECT_FALSE(BackchannelEncoder::takes(video));
  // AAC: only AAC-hbr with 13-bit sizes, and AAC-LC if the config names the object type.
  auto aac = section("MPEG4-GENERIC", 16000, 96);
  aac.fmtp = {{"mode", "AAC-hbr"}, {"sizelength", "13"}, {"config", "1408"}};
  EXPECT_TRUE(BackchannelEncoder::takes(aac));
  aac.fmtp["config"] = "2b08";  // object type 5 (SBR)
  EXPECT_FALSE(BackchannelEncoder::takes(aac));
  aac.fmtp["config"] = "zz";
  EXPECT_FALSE(BackchannelEncoder::takes(aac));
  aac.fmtp = {{"mode", "AAC-lbr"}, {"sizelength", "6"}};
  EXPECT_FALSE(BackchannelEncoder::takes(aac));
}

TEST(BackchannelEncoder, G711PassesOrConvertsEachSampleInOrder) {
  const auto said = tone(0.1);
  auto pcmu = BackchannelEncoder::make(section("PCMU", 8000, 0));
  ASSERT_TRUE(pcmu);
  auto sent = encode_in_20ms(*pcmu, said);
  ASSERT_EQ(sent.packets.size(), 5u);
  std::vector<uint8_t> got;
  for (size_t i = 0; i < sent.packets.size(); ++i) {
    EXPECT_EQ(sent.packets[i].payload_type, 0);
    EXPECT_EQ(sent.packets[i].timestamp, 160u * i);
    got.insert(got.end(), sent.packets[i].payload.begin(), sent.packets[i].payload.end());
  }
  EXPECT_EQ(got, said);

  auto pcma = BackchannelEncoder::make(section("PCMA", 8000, 8));
  ASSERT_TRUE(pcma);
  sent = encode_in_20ms(*pcma, said);
  ASSERT_EQ(sent.packets.size(), 5u);
  for (size_t i = 0; i < 160; ++i) {
    const int was = media::codec::ulaw_to_pcm(said[i]);
    const int is = media::codec::alaw_to_pcm(sent.packets[0].payload[i]);
    EXPECT_LE(std::abs(was - is), std::max(16, std::abs(was) / 16)) << i;
  }
  EXPECT_EQ(sent.packets[0].payload_type, 8);
}

TEST(BackchannelEncoder, OpusPacketsOf20MsOnA48kHzClock) {
  auto opus = BackchannelEncoder::make(section("opus", 48000, 111, 2));
  ASSERT_TRUE(opus) << "libavcodec has no libopus encoder";
  EXPECT_EQ(opus->name(), "Opus");
  auto sent = encode_in_20ms(*opus, tone(1.0));
  ASSERT_GE(sent.packets.size(), 45u);
  for (size_t i = 1; i < sent.packets.size(); ++i) {
    EXPECT_EQ(sent.packets[i].payload_type, 111);
    EXPECT_EQ(sent.packets[i].timestamp - sent.packets[i - 1].timestamp, 960u);
    EXPECT_EQ(media::codec::opus_packet_samples(sent.packets[i].payload), 960u);
    EXPECT_EQ(static_cast<uint16_t>(sent.packets[i].sequence - sent.packets[i - 1].sequence), 1);
  }
}

TEST(BackchannelEncoder, AacFramesOf1024SamplesAtTheCamerasRate) {
  auto aac = BackchannelEncoder::make(section("MPEG4-GENERIC", 16000, 96));
  ASSERT_TRUE(aac);
  EXPECT_EQ(aac->name(), "AAC");
  // 1 s at 8 kHz is 16,000 samples at 16 kHz: 15 frames (and the encoder's delay).
  auto sent = encode_in_20ms(*aac, tone(1.0));
  ASSERT_GE(sent.packets.size(), 13u);
  ASSERT_LE(sent.packets.size(), 15u);
  for (size_t i = 1; i < sent.packets.size(); ++i) {
    EXPECT_EQ(sent.packets[i].timestamp - sent.packets[i - 1].timestamp, 1024u);
    // RFC 3640 AAC-hbr: a 16-bit AU-headers length (one header of 16 bits), then the size.
    const auto& p = sent.packets[i].payload;
    ASSERT_GT(p.size(), 4u);
    EXPECT_EQ(p[0], 0);
    EXPECT_EQ(p[1], 16);
    EXPECT_EQ(((p[2] << 8 | p[3]) >> 3), static_cast<int>(p.size() - 4));
  }
}

TEST(Upsampler, KeepsTheTimeAcrossCallsAndInterpolates) {
  Upsampler up(16000);
  std::vector<int16_t> out;
  const std::vector<int16_t> ramp = {0, 100, 200, 300, 400, 500, 600, 700};
  for (size_t i = 0; i < ramp.size(); i += 3) {
    up.push(std::span(ramp).subspan(i, std::min<size_t>(3, ramp.size() - i)), out);
  }
  // Two outputs per input, the second halfway to the next; the last input waits.
  ASSERT_EQ(out.size(), 14u);
  for (size_t k = 0; k < out.size(); ++k) EXPECT_EQ(out[k], static_cast<int16_t>(50 * k)) << k;
  Upsampler same(8000);
  out.clear();
  same.push(ramp, out);
  EXPECT_EQ(out, std::vector<int16_t>(ramp.begin(), ramp.end() - 1));
}

}  // namespace
}  // namespace nj::cam
