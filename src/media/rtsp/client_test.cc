#include "media/rtsp/client.h"

#include <gtest/gtest.h>

#include <map>

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
  std::unique_ptr<AccessGrant> allow(std::string_view, Purpose, std::string_view token,
                                     std::function<void()>) override {
    return token == "t" ? std::make_unique<AccessGrant>() : nullptr;
  }
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
  install_rtp_packager(hub);
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

// A Loopback whose server side opens UDP ports: datagrams it sends are kept per channel.
class UdpLoopback final : public Connection {
 public:
  void send(std::string bytes) override { to_client += bytes; }
  void post(std::function<void()> fn) override { fn(); }
  bool writable() const override { return true; }
  void close() override {}
  std::optional<std::pair<int, int>> open_udp(int channel,
                                              std::pair<int, int> client_ports) override {
    client_port_of[channel] = client_ports.first;
    return std::make_pair(7000 + channel, 7001 + channel);
  }
  void send_udp(int channel, std::span<const uint8_t> packet) override {
    datagrams.push_back({channel, std::vector<uint8_t>(packet.begin(), packet.end())});
  }
  std::string to_client, to_server;
  std::map<int, int> client_port_of;
  std::vector<std::pair<int, std::vector<uint8_t>>> datagrams;
};

void pump(UdpLoopback& wire, ServerSession& server, ClientSession& client) {
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

TEST(ClientSession, PushesAndPlaysOverUdp) {
  hub::Hub hub;
  install_rtp_packager(hub);
  AllowAll auth;
  hub::StreamInfo info;
  info.video_codec = "H264";
  info.sps = kSps;
  info.pps = kPps;

  UdpLoopback push_wire;
  auto push_server = std::make_shared<ServerSession>(hub, auth, push_wire);
  Egress out(info, {});
  std::map<int, std::pair<int, int>> push_peers;  // slot → the server's ports
  ClientSession::Handlers push_handlers;
  push_handlers.send = [&](std::string b) { push_wire.to_server += b; };
  push_handlers.failed = [](const std::string& why) { FAIL() << why; };
  ClientSession::UdpHandlers push_udp;
  push_udp.open_udp = [](int slot) -> std::optional<std::pair<int, int>> {
    return std::make_pair(6000 + 2 * slot, 6001 + 2 * slot);
  };
  push_udp.udp_peer = [&](int slot, int track, std::pair<int, int> ports) {
    EXPECT_EQ(track, slot);
    push_peers[slot] = ports;
  };
  push_udp.send_datagram = [&](int slot, bool rtcp, std::span<const uint8_t> packet) {
    // The server numbers a UDP track's channel pair from its port pair.
    const int channel = push_peers.at(slot).first - 7000 + (rtcp ? 1 : 0);
    push_server->on_udp(channel, packet);
  };
  ClientSession pusher(*parse_client_url("rtsp://127.0.0.1:1/push/CAM1?token=t"),
                       ClientSession::Mode::kPush, push_handlers, out.sdp("test"));
  pusher.use_udp(push_udp);
  pusher.start();
  pump(push_wire, *push_server, pusher);
  ASSERT_EQ(pusher.state(), ClientSession::State::kStreaming);
  EXPECT_TRUE(pusher.udp());
  EXPECT_EQ(push_wire.client_port_of.at(0), 6000);
  ASSERT_TRUE(hub.is_published("push/CAM1"));

  UdpLoopback play_wire;
  auto play_server = std::make_shared<ServerSession>(hub, auth, play_wire);
  std::map<int, int> play_tracks;  // the server's channel → track
  ClientSession::Handlers play_handlers;
  play_handlers.send = [&](std::string b) { play_wire.to_server += b; };
  play_handlers.described = [](const sdp::Session&) { return std::vector<int>{0}; };
  play_handlers.failed = [](const std::string& why) { FAIL() << why; };
  ClientSession::UdpHandlers play_udp;
  play_udp.open_udp = [](int slot) -> std::optional<std::pair<int, int>> {
    return std::make_pair(6100 + 2 * slot, 6101 + 2 * slot);
  };
  play_udp.udp_peer = [&](int, int track, std::pair<int, int> ports) {
    play_tracks[ports.first - 7000] = track;
  };
  ClientSession player(*parse_client_url("rtsp://127.0.0.1:1/live/CAM1?token=t"),
                       ClientSession::Mode::kPlay, play_handlers);
  player.use_udp(play_udp);
  player.start();
  pump(play_wire, *play_server, player);
  ASSERT_EQ(player.state(), ClientSession::State::kStreaming);
  EXPECT_TRUE(play_wire.to_client.empty());

  rtp::H264Packetizer packetizer(96, 1234, 10);
  const std::vector<uint8_t> idr = {0, 0, 0, 5, 0x65, 1, 2, 3, 4};
  const std::vector<uint8_t> p_frame = {0, 0, 0, 3, 0x41, 9, 9};
  packetizer.packetize(idr, 0, [&](auto pkt) { pusher.send_media(0, false, pkt); });
  packetizer.packetize(p_frame, 3600, [&](auto pkt) { pusher.send_media(0, false, pkt); });
  // The RTSP connection carried no media: all of it went as datagrams.
  EXPECT_TRUE(push_wire.to_server.empty());
  std::vector<rtp::H264AccessUnit> received;
  rtp::H264Depacketizer depacketizer([&](rtp::H264AccessUnit&& au) { received.push_back(au); });
  for (const auto& [channel, datagram] : play_wire.datagrams) {
    if (channel % 2 == 1) continue;  // RTCP
    ASSERT_EQ(play_tracks.at(channel), 0);
    auto p = rtp::parse(datagram);
    ASSERT_TRUE(p);
    depacketizer.push(*p);
  }
  depacketizer.flush();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_TRUE(received[0].keyframe);
}

TEST(ClientSession, FallsBackToTcpWhenTheServerRefusesUdp) {
  hub::Hub hub;
  install_rtp_packager(hub);
  AllowAll auth;
  Loopback wire;  // its server side has no UDP: SETUP over UDP gets 461
  auto server = std::make_shared<ServerSession>(hub, auth, wire);
  hub::StreamInfo info;
  info.video_codec = "H264";
  info.sps = kSps;
  info.pps = kPps;
  Egress out(info, {});
  bool opened = false;
  ClientSession::Handlers handlers;
  handlers.send = [&](std::string b) { wire.to_server += b; };
  handlers.failed = [](const std::string& why) { FAIL() << why; };
  ClientSession::UdpHandlers udp;
  udp.open_udp = [&](int) -> std::optional<std::pair<int, int>> {
    opened = true;
    return std::make_pair(6000, 6001);
  };
  ClientSession pusher(*parse_client_url("rtsp://127.0.0.1:1/push/CAM1?token=t"),
                       ClientSession::Mode::kPush, handlers, out.sdp("test"));
  pusher.use_udp(udp);
  pusher.start();
  pump(wire, *server, pusher);
  EXPECT_TRUE(opened);
  EXPECT_EQ(pusher.state(), ClientSession::State::kStreaming);
  EXPECT_FALSE(pusher.udp());
  EXPECT_TRUE(hub.is_published("push/CAM1"));
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

// The ONVIF audio back-channel: every request says Require, the a=sendonly section is set
// up, and after PLAY the client sends RTP on that section's channel.
TEST(ClientSession, SendsOnAnOnvifBackChannel) {
  std::vector<std::string> sent;
  ClientSession c(*parse_client_url("rtsp://cam/s"), ClientSession::Mode::kPlay,
                  {.send = [&](std::string b) { sent.push_back(b); },
                   .described = [](const sdp::Session& s) -> std::vector<int> {
                     for (size_t i = 0; i < s.media.size(); ++i) {
                       for (const auto& [name, value] : s.media[i].attributes) {
                         if (name == "sendonly") return {static_cast<int>(i)};
                       }
                     }
                     return {};
                   },
                   .ready = {},
                   .media = {},
                   .failed = {}});
  c.require("www.onvif.org/ver20/backchannel");
  c.play_range("");
  c.start();
  auto reply = [&](const std::string& text) { ASSERT_TRUE(c.feed(bytes(text))); };
  reply("RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: DESCRIBE, SETUP, PLAY\r\n\r\n");
  const std::string sdp =
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=cam\r\nt=0 0\r\n"
      "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:stream=0\r\na=recvonly\r\n"
      "m=audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=control:stream=1\r\na=sendonly\r\n";
  reply(
      "RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Base: rtsp://cam/s/\r\nContent-Type: "
      "application/sdp\r\nContent-Length: " +
      std::to_string(sdp.size()) + "\r\n\r\n" + sdp);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_NE(sent[1].find("Require: www.onvif.org/ver20/backchannel"), std::string::npos);
  EXPECT_NE(sent[2].find("SETUP rtsp://cam/s/stream=1"), std::string::npos) << sent[2];
  EXPECT_NE(sent[2].find("Require: www.onvif.org/ver20/backchannel"), std::string::npos);
  reply(
      "RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: 42\r\nTransport: "
      "RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n");
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_NE(sent[3].find("PLAY"), std::string::npos);
  EXPECT_EQ(sent[3].find("Range:"), std::string::npos) << "a live back-channel asks for none";
  reply("RTSP/1.0 200 OK\r\nCSeq: 4\r\nSession: 42\r\n\r\n");
  ASSERT_EQ(c.state(), ClientSession::State::kStreaming);
  const uint8_t rtp[] = {0x80, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff};
  c.send_media(1, false, rtp);
  ASSERT_EQ(sent.size(), 5u);
  EXPECT_EQ(sent[4].substr(0, 4), std::string("$\x00\x00\x0e", 4)) << "on the section's channel";
}

}  // namespace
}  // namespace nj::media::rtsp
