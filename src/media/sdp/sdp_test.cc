#include "media/sdp/sdp.h"

#include <gtest/gtest.h>

namespace nj::media::sdp {
namespace {

// What ffmpeg announces when pushing H.264 + AAC (shape as seen from `-f rtsp`).
constexpr const char* kFfmpeg =
    "v=0\r\n"
    "o=- 0 0 IN IP4 127.0.0.1\r\n"
    "s=No Name\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\n"
    "a=tool:libavformat 59.27.100\r\n"
    "m=video 0 RTP/AVP 96\r\n"
    "b=AS:2000\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 packetization-mode=1; "
    "sprop-parameter-sets=Z2QAH6zZQFAFuhAAAAMAEAAAAwMg8YMZYA==,aOvjyyLA; "
    "profile-level-id=64001F\r\n"
    "a=control:streamid=0\r\n"
    "m=audio 0 RTP/AVP 97\r\n"
    "b=AS:128\r\n"
    "a=rtpmap:97 MPEG4-GENERIC/48000/2\r\n"
    "a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; "
    "config=119056E500\r\n"
    "a=control:streamid=1\r\n";

TEST(Sdp, ParsesWhatFfmpegAnnounces) {
  auto s = parse(kFfmpeg);
  ASSERT_TRUE(s) << error_name(s.error());
  ASSERT_EQ(s->media.size(), 2u);
  const auto& v = s->media[0];
  EXPECT_EQ(v.type, "video");
  EXPECT_EQ(v.payload_type, 96);
  EXPECT_EQ(v.encoding, "H264");
  EXPECT_EQ(v.clock_rate, 90000u);
  EXPECT_EQ(v.control, "streamid=0");
  EXPECT_EQ(v.fmtp.at("packetization-mode"), "1");
  EXPECT_EQ(v.fmtp.at("profile-level-id"), "64001F");
  auto sets = h264_parameter_sets(v);
  ASSERT_TRUE(sets);
  EXPECT_EQ(sets->sps[0] & 0x1f, 7);
  EXPECT_EQ(sets->sps[1], 0x64);  // High profile
  EXPECT_EQ(sets->pps[0] & 0x1f, 8);
  const auto& a = s->media[1];
  EXPECT_EQ(a.encoding, "MPEG4-GENERIC");
  EXPECT_EQ(a.clock_rate, 48000u);
  EXPECT_EQ(a.channels, 2);
  EXPECT_EQ(a.fmtp.at("config"), "119056E500");
  EXPECT_EQ(a.fmtp.at("mode"), "AAC-hbr");
}

TEST(Sdp, WriteThenParseRoundTrips) {
  auto s = parse(kFfmpeg);
  ASSERT_TRUE(s);
  s->control = "*";
  auto again = parse(write(*s));
  ASSERT_TRUE(again);
  ASSERT_EQ(again->media.size(), 2u);
  EXPECT_EQ(again->media[0].fmtp, s->media[0].fmtp);
  EXPECT_EQ(again->media[1].channels, 2);
  EXPECT_EQ(again->control, "*");
}

TEST(Sdp, RejectsMalformedInput) {
  EXPECT_EQ(parse("").error(), Error::kNoMedia);
  EXPECT_EQ(parse("v=0\r\nnonsense\r\n").error(), Error::kBadLine);
  EXPECT_EQ(parse("m=video\r\n").error(), Error::kBadMedia);
  EXPECT_EQ(parse("m=video x RTP/AVP 96\r\n").error(), Error::kBadMedia);
  EXPECT_EQ(parse("m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264\r\n").error(), Error::kBadRtpmap);
  EXPECT_EQ(parse("m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/0\r\n").error(), Error::kBadRtpmap);
  EXPECT_EQ(parse(std::string(kMaxSdpBytes + 1, 'a')).error(), Error::kTooLarge);
  std::string many;
  for (int i = 0; i < 20; ++i) many += "m=video 0 RTP/AVP 96\r\n";
  EXPECT_EQ(parse(many).error(), Error::kTooLarge);
}

TEST(Sdp, ParameterSetsMustBeValid) {
  Media m;
  m.fmtp["sprop-parameter-sets"] = "!!!,aOvjyyLA";
  EXPECT_FALSE(h264_parameter_sets(m));
  m.fmtp["sprop-parameter-sets"] = "aOvjyyLA";  // PPS only
  EXPECT_FALSE(h264_parameter_sets(m));
}

TEST(Base64, RoundTrip) {
  const std::vector<uint8_t> data = {0, 1, 2, 250, 251, 252, 253};
  for (size_t n = 0; n <= data.size(); ++n) {
    std::vector<uint8_t> d(data.begin(), data.begin() + static_cast<long>(n));
    EXPECT_EQ(base64_decode(base64_encode(d)), d);
  }
}

}  // namespace
}  // namespace nj::media::sdp
