#include "media/rtsp/message.h"

#include <gtest/gtest.h>

namespace nj::media::rtsp {
namespace {

std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(RtspParse, AnnounceWithSdpBody) {
  const std::string sdp = "v=0\r\nm=video 0 RTP/AVP 96\r\n";
  const std::string msg =
      "ANNOUNCE rtsp://127.0.0.1:8554/push/CAM1?token=t RTSP/1.0\r\nCSeq: 2\r\n"
      "Content-Type: application/sdp\r\nContent-Length: " +
      std::to_string(sdp.size()) + "\r\n\r\n" + sdp;
  Item item;
  // Byte by byte: "need more" until the very last byte.
  for (size_t n = 0; n < msg.size(); ++n) {
    auto r = parse(bytes(std::string_view(msg).substr(0, n)), item);
    ASSERT_TRUE(r);
    ASSERT_EQ(*r, 0u) << n;
  }
  auto r = parse(bytes(msg), item);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, msg.size());
  EXPECT_EQ(item.kind, Item::Kind::kMessage);
  EXPECT_EQ(item.message.method, "ANNOUNCE");
  EXPECT_EQ(item.message.uri, "rtsp://127.0.0.1:8554/push/CAM1?token=t");
  EXPECT_EQ(item.message.cseq(), 2);
  EXPECT_EQ(item.message.header("content-type"), "application/sdp");
  EXPECT_EQ(item.message.body, sdp);
}

TEST(RtspParse, InterleavedFramesBetweenMessages) {
  std::string stream = "$";
  stream += char(1);
  stream += char(0);
  stream += char(3);
  stream += "abc";
  stream += "GET_PARAMETER rtsp://h/live/x RTSP/1.0\r\nCSeq: 9\r\n\r\n";
  Item item;
  auto r = parse(bytes(stream), item);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 7u);
  EXPECT_EQ(item.kind, Item::Kind::kFrame);
  EXPECT_EQ(item.channel, 1);
  EXPECT_EQ(std::string(item.frame_payload.begin(), item.frame_payload.end()), "abc");
  auto r2 = parse(bytes(std::string_view(stream).substr(7)), item);
  ASSERT_TRUE(r2);
  EXPECT_EQ(item.message.method, "GET_PARAMETER");
}

TEST(RtspParse, Response) {
  Item item;
  auto r = parse(
      bytes("RTSP/1.0 401 Unauthorized\r\nCSeq: 3\r\nWWW-Authenticate: Digest realm=\"x\"\r\n\r\n"),
      item);
  ASSERT_TRUE(r);
  EXPECT_FALSE(item.message.is_request);
  EXPECT_EQ(item.message.status, 401);
  EXPECT_EQ(item.message.reason, "Unauthorized");
}

TEST(RtspParse, ErrorsAndLimits) {
  Item item;
  EXPECT_EQ(parse(bytes("HELLO\r\n\r\n"), item).error(), Error::kBadStartLine);
  EXPECT_EQ(parse(bytes("OPTIONS * HTTP/1.1\r\n\r\n"), item).error(), Error::kBadStartLine);
  EXPECT_EQ(parse(bytes("OPTIONS * RTSP/3.0\r\n\r\n"), item).error(), Error::kBadVersion);
  EXPECT_EQ(parse(bytes("OPTIONS * RTSP/1.0\r\nno colon\r\n\r\n"), item).error(),
            Error::kBadHeader);
  EXPECT_EQ(parse(bytes("OPTIONS * RTSP/1.0\r\nContent-Length: -1\r\n\r\n"), item).error(),
            Error::kBadContentLength);
  EXPECT_EQ(parse(bytes("OPTIONS * RTSP/1.0\r\nContent-Length: 999999999\r\n\r\n"), item).error(),
            Error::kBodyTooLarge);
  const std::string huge = "OPTIONS * RTSP/1.0\r\nX: " + std::string(20000, 'a');
  EXPECT_EQ(parse(bytes(huge), item).error(), Error::kHeaderTooLarge);
}

TEST(RtspSerialize, RoundTrip) {
  Message m;
  m.is_request = false;
  m.status = 200;
  m.reason = "OK";
  m.set_header("CSeq", "4");
  m.set_header("Content-Type", "application/sdp");
  m.body = "v=0\r\n";
  const auto text = serialize(m);
  Item item;
  auto r = parse(bytes(text), item);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, text.size());
  EXPECT_EQ(item.message.body, "v=0\r\n");
  EXPECT_EQ(item.message.cseq(), 4);
}

TEST(Transport, ParsesTcpAndUdpOffers) {
  auto tcp = parse_transport("RTP/AVP/TCP;unicast;interleaved=0-1;mode=record");
  ASSERT_TRUE(tcp);
  EXPECT_TRUE(tcp->tcp);
  EXPECT_EQ(tcp->interleaved, std::make_pair(0, 1));
  EXPECT_EQ(tcp->mode, "record");
  auto udp = parse_transport("RTP/AVP;multicast,RTP/AVP;unicast;client_port=5000-5001");
  ASSERT_TRUE(udp);
  EXPECT_FALSE(udp->tcp);
  EXPECT_EQ(udp->client_port, std::make_pair(5000, 5001));
  EXPECT_FALSE(parse_transport("RTP/SAVP;unicast;client_port=1-2"));
  EXPECT_FALSE(parse_transport("RTP/AVP/TCP;interleaved=300-301"));
  EXPECT_FALSE(parse_transport("RTP/AVP;unicast"));
  EXPECT_EQ(format_transport(*tcp), "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record");
}

}  // namespace
}  // namespace nj::media::rtsp
