#include "media/rtsp/client.h"

#include <gtest/gtest.h>

#include "media/rtsp/auth.h"
#include "media/rtsp/session.h"

namespace nj::media::rtsp {
namespace {

TEST(Md5, Rfc1321Vectors) {
  EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(md5_hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(md5_hex("12345678901234567890123456789012345678901234567890123456789012345678901234"
                    "567890"),
            "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(Digest, Rfc2617Example) {
  EXPECT_EQ(
      digest_response("Mufasa", "testrealm@host.com", "Circle Of Life", "GET", "/dir/index.html",
                      "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth"),
      "6629fae49393a05397450978507c4ef1");
}

TEST(Digest, PicksDigestOverBasicAndAnswers) {
  Message r;
  r.is_request = false;
  r.status = 401;
  r.headers = {{"WWW-Authenticate", "Basic realm=\"cam\""},
               {"WWW-Authenticate", "Digest realm=\"cam\", nonce=\"abc\", opaque=\"o, p\""}};
  auto c = pick_challenge(r);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->scheme, Challenge::Scheme::kDigest);
  EXPECT_EQ(c->opaque, "o, p");
  Credentials creds("admin", "secret");
  creds.set_challenge(*c);
  const auto header = creds.authorization("DESCRIBE", "rtsp://h/s");
  EXPECT_NE(header.find("response=\"" +
                        digest_response("admin", "cam", "secret", "DESCRIBE", "rtsp://h/s", "abc",
                                        "", "", "") +
                        "\""),
            std::string::npos);
  r.headers = {{"WWW-Authenticate", "Basic realm=\"cam\""}};
  creds.set_challenge(*pick_challenge(r));
  EXPECT_EQ(creds.authorization("DESCRIBE", "x"), "Basic YWRtaW46c2VjcmV0");
  r.headers = {{"WWW-Authenticate", "Digest realm=\"x\", nonce=\"n\", algorithm=SHA-256"}};
  EXPECT_FALSE(pick_challenge(r));  // nothing we can answer
}

TEST(ClientUrl, Parses) {
  auto u = parse_client_url("rtsp://ad%40min:p%3Ass@192.168.1.9:8554/Streaming/101?x=1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user, "ad@min");
  EXPECT_EQ(u->password, "p:ss");
  EXPECT_EQ(u->host, "192.168.1.9");
  EXPECT_EQ(u->port, 8554);
  EXPECT_EQ(u->path, "/Streaming/101?x=1");
  EXPECT_EQ(u->request_url(), "rtsp://192.168.1.9:8554/Streaming/101?x=1");
  auto v6 = parse_client_url("rtsp://[::1]/live");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 554);
  EXPECT_EQ(v6->request_url(), "rtsp://[::1]:554/live");
  EXPECT_FALSE(parse_client_url("http://x/"));
  EXPECT_FALSE(parse_client_url("rtsp://h:0/"));
  EXPECT_FALSE(parse_client_url("rtsp://h:99999/"));
  EXPECT_FALSE(parse_client_url("rtsp://:554/"));
  EXPECT_FALSE(parse_client_url("rtsp://u:%zz@h/"));
}

// A client and a server session wired back to back in memory.
class Loopback final : public Connection {
 public:
  void send(std::string bytes) override { to_client += bytes; }
  void post(std::function<void()> fn) override { fn(); }
  bool writable() const override { return true; }
  void close() override { closed = true; }
  std::string to_client, to_server;
  bool closed = false;
};

class AllowAll final : public Authorizer {
 public:
  bool allow(std::string_view, Purpose, std::string_view token) override { return token == "t"; }
};

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Moves bytes both ways until neither side has anything to say.
void pump(Loopback& wire, ServerSession& server, ClientSession& client) {
  for (int i = 0; i < 100 && (!wire.to_client.empty() || !wire.to_server.empty()); ++i) {
    if (!wire.to_server.empty()) {
      auto n = server.feed(bytes(wire.to_server));
      ASSERT_TRUE(n);
      wire.to_server.erase(0, *n);
    }
    if (!wire.to_client.empty()) {
      auto n = client.feed(bytes(wire.to_client));
      ASSERT_TRUE(n);
      wire.to_client.erase(0, *n);
    }
  }
}

const std::vector<uint8_t> kSps = {0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f,
                                   0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00,
                                   0x00, 0x03, 0x00, 0x32, 0x0f, 0x16, 0x2d, 0x96};
const std::vector<uint8_t> kPps = {0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0};

TEST(ClientSession, PushesIntoAndPlaysFromOurServer) {
  hub::Hub hub;
  AllowAll auth;
  hub::StreamInfo info;
  info.video_codec = "H264";
  info.sps = kSps;
  info.pps = kPps;

  // Push: the client announces H.264 and sends two access units.
  Loopback push_wire;
  auto push_server = std::make_shared<ServerSession>(hub, auth, push_wire);
  Egress out(info, {});
  bool push_ready = false;
  ClientSession pusher(*parse_client_url("rtsp://127.0.0.1:1/push/CAM1?token=t"),
                       ClientSession::Mode::kPush,
                       {.send = [&](std::string b) { push_wire.to_server += b; },
                        .described = {},
                        .ready = [&] { push_ready = true; },
                        .media = {},
                        .failed = [](const std::string& why) { FAIL() << why; }},
                       out.sdp("test"));
  pusher.start();
  pump(push_wire, *push_server, pusher);
  ASSERT_TRUE(push_ready);
  ASSERT_TRUE(hub.is_published("push/CAM1"));

  // Play: a second client plays live/CAM1 and receives what the first one pushes.
  Loopback play_wire;
  auto play_server = std::make_shared<ServerSession>(hub, auth, play_wire);
  std::vector<rtp::H264AccessUnit> received;
  rtp::H264Depacketizer depacketizer([&](rtp::H264AccessUnit&& au) { received.push_back(au); });
  bool play_ready = false;
  ClientSession player(
      *parse_client_url("rtsp://127.0.0.1:1/live/CAM1?token=t"), ClientSession::Mode::kPlay,
      {.send = [&](std::string b) { play_wire.to_server += b; },
       .described = [](const sdp::Session& s) { return std::vector<int>(s.media.size() ? 1 : 0); },
       .ready = [&] { play_ready = true; },
       .media =
           [&](int track, bool rtcp, std::span<const uint8_t> packet) {
             if (track != 0 || rtcp) return;
             auto p = rtp::parse(packet);
             ASSERT_TRUE(p);
             depacketizer.push(*p);
           },
       .failed = [](const std::string& why) { FAIL() << why; }});
  player.start();
  pump(play_wire, *play_server, player);
  ASSERT_TRUE(play_ready);

  rtp::H264Packetizer packetizer(96, 1234, 10);
  const std::vector<uint8_t> idr = {0, 0, 0, 5, 0x65, 1, 2, 3, 4};
  const std::vector<uint8_t> p_frame = {0, 0, 0, 3, 0x41, 9, 9};
  packetizer.packetize(idr, 0, [&](auto pkt) { pusher.send_media(0, false, pkt); });
  packetizer.packetize(p_frame, 3600, [&](auto pkt) { pusher.send_media(0, false, pkt); });
  pump(push_wire, *push_server, pusher);
  pump(play_wire, *play_server, player);
  depacketizer.flush();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_TRUE(received[0].keyframe);
  EXPECT_EQ(received[1].timestamp - received[0].timestamp, 3600);

  // A wrong token is a clear failure, not a hang.
  Loopback bad_wire;
  auto bad_server = std::make_shared<ServerSession>(hub, auth, bad_wire);
  std::string why;
  ClientSession refused(*parse_client_url("rtsp://127.0.0.1:1/live/CAM1?token=nope"),
                        ClientSession::Mode::kPlay,
                        {.send = [&](std::string b) { bad_wire.to_server += b; },
                         .described = {},
                         .ready = {},
                         .media = {},
                         .failed = [&](const std::string& w) { why = w; }});
  refused.start();
  pump(bad_wire, *bad_server, refused);
  EXPECT_EQ(refused.state(), ClientSession::State::kFailed);
  EXPECT_NE(why.find("401"), std::string::npos);
}

TEST(ClientSession, AnswersADigestChallengeOnce) {
  std::vector<std::string> sent;
  std::string why;
  ClientSession c(*parse_client_url("rtsp://admin:pw@cam/s"), ClientSession::Mode::kPlay,
                  {.send = [&](std::string b) { sent.push_back(b); },
                   .described = {},
                   .ready = {},
                   .media = {},
                   .failed = [&](const std::string& w) { why = w; }});
  c.start();
  auto reply = [&](const std::string& text) {
    auto n = c.feed(bytes(text));
    ASSERT_TRUE(n);
  };
  reply("RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: DESCRIBE, SETUP, PLAY, GET_PARAMETER\r\n\r\n");
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].find("Authorization"), std::string::npos);
  reply(
      "RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\nWWW-Authenticate: Digest realm=\"r\", "
      "nonce=\"n1\"\r\n\r\n");
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_NE(sent[2].find("DESCRIBE rtsp://cam:554/s"), std::string::npos);
  EXPECT_NE(sent[2].find("Authorization: Digest username=\"admin\""), std::string::npos);
  reply(
      "RTSP/1.0 401 Unauthorized\r\nCSeq: 3\r\nWWW-Authenticate: Digest realm=\"r\", "
      "nonce=\"n2\"\r\n\r\n");
  EXPECT_EQ(c.state(), ClientSession::State::kFailed);  // wrong password: no endless retry
  EXPECT_NE(why.find("401"), std::string::npos);
  EXPECT_EQ(sent.size(), 3u);
}

}  // namespace
}  // namespace nj::media::rtsp
