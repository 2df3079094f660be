#include "media/rtsp/session.h"

#include <gtest/gtest.h>

#include "media/sdp/sdp.h"

namespace nj::media::rtsp {
namespace {

class FakeConnection final : public Connection {
 public:
  void send(std::string bytes) override { sent += bytes; }
  void post(std::function<void()> fn) override { fn(); }
  bool writable() const override { return true; }
  void close() override { closed = true; }
  // Splits what was sent into messages and frames.
  std::vector<Item> items() {
    std::vector<Item> out;
    std::span<const uint8_t> rest(reinterpret_cast<const uint8_t*>(sent.data()), sent.size());
    while (!rest.empty()) {
      Item item;
      auto n = parse(rest, item);
      if (!n || *n == 0) break;
      out.push_back(item);
      rest = rest.subspan(*n);
    }
    return out;
  }
  std::string sent;
  bool closed = false;
};

class AllowToken final : public Authorizer {
 public:
  std::unique_ptr<AccessGrant> allow(std::string_view serial, Purpose purpose,
                                     std::string_view token,
                                     std::function<void()> revoked) override {
    const char* prefix = purpose == Purpose::kPush     ? "push-"
                         : purpose == Purpose::kSdPush ? "sd-"
                         : purpose == Purpose::kTalk   ? "talk-"
                                                       : "play-";
    if (token != prefix + std::string(serial)) return nullptr;
    last_revoke = std::move(revoked);
    return std::make_unique<AccessGrant>();
  }
  std::function<void()> last_revoke;  // the last grant's, to end it as the server would
};

const std::vector<uint8_t> kSps = {0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f,
                                   0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00,
                                   0x00, 0x03, 0x00, 0x32, 0x0f, 0x16, 0x2d, 0x96};
const std::vector<uint8_t> kPps = {0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0};

std::string request(const std::string& method, const std::string& uri, int cseq,
                    std::vector<std::pair<std::string, std::string>> headers = {},
                    std::string body = {}) {
  Message m;
  m.method = method;
  m.uri = uri;
  m.set_header("CSeq", std::to_string(cseq));
  for (auto& [k, v] : headers) m.set_header(k, v);
  m.body = std::move(body);
  return serialize(m);
}

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

int last_status(FakeConnection& c) {
  auto items = c.items();
  for (auto it = items.rbegin(); it != items.rend(); ++it) {
    if (it->kind == Item::Kind::kMessage) return it->message.status;
  }
  return 0;
}

std::string announce_sdp() {
  sdp::Session s;
  sdp::Media v;
  v.type = "video";
  v.protocol = "RTP/AVP";
  v.payload_type = 96;
  v.encoding = "H264";
  v.clock_rate = 90000;
  v.fmtp["packetization-mode"] = "1";
  v.fmtp["sprop-parameter-sets"] = sdp::base64_encode(kSps) + "," + sdp::base64_encode(kPps);
  v.control = "streamid=0";
  sdp::Media a;
  a.type = "audio";
  a.protocol = "RTP/AVP";
  a.payload_type = 97;
  a.encoding = "MPEG4-GENERIC";
  a.clock_rate = 48000;
  a.control = "streamid=1";
  s.media = {v, a};
  return sdp::write(s);
}

std::vector<uint8_t> avcc(uint8_t type, size_t size) {
  std::vector<uint8_t> out = {0, 0, uint8_t(size >> 8), uint8_t(size), type};
  for (size_t i = 1; i < size; ++i) out.push_back(static_cast<uint8_t>(i));
  return out;
}

TEST(RtspSession, PushThenPlayRelaysAccessUnits) {
  hub::Hub hub;
  install_rtp_packager(hub);
  AllowToken auth;
  const std::string base = "rtsp://127.0.0.1:8554/push/CAM1?token=push-CAM1";

  FakeConnection pusher_conn;
  auto pusher = std::make_shared<ServerSession>(hub, auth, pusher_conn);
  ASSERT_TRUE(pusher->feed(
      bytes(request("ANNOUNCE", base, 1, {{"Content-Type", "application/sdp"}}, announce_sdp()))));
  EXPECT_EQ(last_status(pusher_conn), 200);
  ASSERT_TRUE(pusher->feed(
      bytes(request("SETUP", base + "/streamid=0", 2,
                    {{"Transport", "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record"}}))));
  EXPECT_EQ(last_status(pusher_conn), 200);
  ASSERT_TRUE(pusher->feed(
      bytes(request("SETUP", base + "/streamid=1", 3,
                    {{"Transport", "RTP/AVP/TCP;unicast;interleaved=2-3;mode=record"}}))));
  EXPECT_EQ(last_status(pusher_conn), 200) << "audio is accepted (and dropped for now)";
  ASSERT_TRUE(pusher->feed(bytes(request("RECORD", base, 4))));
  EXPECT_EQ(last_status(pusher_conn), 200);
  EXPECT_TRUE(hub.is_published("push/CAM1"));

  // The camera sends a keyframe and a P-frame, interleaved on channel 0.
  rtp::H264Packetizer packetizer(96, 7, 100, 1400);
  const auto key = avcc(0x65, 3000), delta = avcc(0x41, 500);
  std::string wire;
  auto interleave = [&](std::span<const uint8_t> packet) {
    wire += '$';
    wire += char(0);
    wire += char(packet.size() >> 8);
    wire += char(packet.size() & 0xff);
    wire.append(reinterpret_cast<const char*>(packet.data()), packet.size());
  };
  packetizer.packetize(key, 90000, interleave);
  packetizer.packetize(delta, 93600, interleave);
  auto used = pusher->feed(bytes(wire));
  ASSERT_TRUE(used);
  EXPECT_EQ(*used, wire.size());

  // A player: DESCRIBE shows H.264 with the parameter sets; PLAY starts at the keyframe.
  const std::string live = "rtsp://127.0.0.1:8554/live/CAM1?token=play-CAM1";
  FakeConnection player_conn;
  auto player = std::make_shared<ServerSession>(hub, auth, player_conn);
  ASSERT_TRUE(player->feed(bytes(request("DESCRIBE", live, 1))));
  auto described = player_conn.items().back().message;
  ASSERT_EQ(described.status, 200);
  auto sdp = sdp::parse(described.body);
  ASSERT_TRUE(sdp);
  EXPECT_EQ(sdp->media[0].encoding, "H264");
  auto sets = sdp::h264_parameter_sets(sdp->media[0]);
  ASSERT_TRUE(sets);
  EXPECT_EQ(sets->sps, kSps);
  ASSERT_TRUE(player->feed(bytes(request("SETUP", live + "/trackID=0", 2,
                                         {{"Transport", "RTP/AVP/TCP;unicast;interleaved=0-1"}}))));
  EXPECT_EQ(last_status(player_conn), 200);
  player_conn.sent.clear();
  ASSERT_TRUE(player->feed(bytes(request("PLAY", live, 3))));
  // Another frame arrives while playing.
  wire.clear();
  packetizer.packetize(avcc(0x41, 700), 97200, interleave);
  ASSERT_TRUE(pusher->feed(bytes(wire)));

  std::vector<std::vector<uint8_t>> received;
  rtp::H264Depacketizer depacketizer(
      [&](rtp::H264AccessUnit&& au) { received.push_back(std::move(au.avcc)); });
  auto items = player_conn.items();
  ASSERT_FALSE(items.empty());
  EXPECT_EQ(items.front().message.status, 200) << "the PLAY answer comes before any media";
  EXPECT_NE(items.front().message.header("RTP-Info")->find("rtptime="), std::string::npos);
  for (const auto& item : items) {
    if (item.kind == Item::Kind::kFrame && item.channel == 0) {
      depacketizer.push(*rtp::parse(item.frame_payload));
    }
  }
  depacketizer.flush();
  ASSERT_EQ(received.size(), 3u);
  // An RTCP sender report went out on the RTCP channel with the media.
  bool report = false;
  for (const auto& item : items) {
    report = report || (item.kind == Item::Kind::kFrame && item.channel == 1 &&
                        item.frame_payload.size() == 28 && item.frame_payload[1] == 200);
  }
  EXPECT_TRUE(report);
  EXPECT_EQ(received[0], key);
  EXPECT_EQ(received[1], delta);
  // RTP-Info names the first packet's sequence number.
  std::vector<std::vector<uint8_t>> first_packets;
  for (const auto& item : items) {
    if (item.kind == Item::Kind::kFrame && item.channel == 0)
      first_packets.emplace_back(item.frame_payload.begin(), item.frame_payload.end());
  }
  ASSERT_FALSE(first_packets.empty());
  const uint16_t first_seq = static_cast<uint16_t>(first_packets[0][2] << 8 | first_packets[0][3]);
  EXPECT_NE(
      items.front().message.header("RTP-Info")->find(";seq=" + std::to_string(first_seq) + ";"),
      std::string::npos);

  // A second player on other channels gets the very same packets (one SSRC, one sequence
  // for all players of a stream), on its own channel.
  FakeConnection other_conn;
  auto other = std::make_shared<ServerSession>(hub, auth, other_conn);
  ASSERT_TRUE(other->feed(bytes(request("DESCRIBE", live, 1))));
  ASSERT_TRUE(other->feed(bytes(request("SETUP", live + "/trackID=0", 2,
                                        {{"Transport", "RTP/AVP/TCP;unicast;interleaved=6-7"}}))));
  ASSERT_TRUE(other->feed(bytes(request("PLAY", live, 3))));
  std::vector<std::vector<uint8_t>> other_packets;
  for (const auto& item : other_conn.items()) {
    EXPECT_FALSE(item.kind == Item::Kind::kFrame && item.channel < 6) << "only its own channels";
    if (item.kind == Item::Kind::kFrame && item.channel == 6)
      other_packets.emplace_back(item.frame_payload.begin(), item.frame_payload.end());
  }
  EXPECT_EQ(other_packets, first_packets) << "the cached GOP, packet for packet";

  // The pusher leaves: the stream is gone.
  pusher.reset();
  EXPECT_FALSE(hub.is_published("push/CAM1"));
}

TEST(RtspSession, RefusesWrongTokensUnknownStreamsAndUdp) {
  hub::Hub hub;
  install_rtp_packager(hub);
  AllowToken auth;
  FakeConnection c;
  auto s = std::make_shared<ServerSession>(hub, auth, c);
  ASSERT_TRUE(
      s->feed(bytes(request("ANNOUNCE", "rtsp://h/push/CAM1?token=wrong", 1, {}, announce_sdp()))));
  EXPECT_EQ(last_status(c), 401);
  ASSERT_TRUE(s->feed(
      bytes(request("ANNOUNCE", "rtsp://h/push/CAM2?token=push-CAM1", 2, {}, announce_sdp()))));
  EXPECT_EQ(last_status(c), 401) << "a token is bound to one device";
  ASSERT_TRUE(s->feed(bytes(request("DESCRIBE", "rtsp://h/live/CAM1?token=push-CAM1", 3))));
  EXPECT_EQ(last_status(c), 401) << "a push token cannot play";
  ASSERT_TRUE(s->feed(bytes(request("DESCRIBE", "rtsp://h/live/CAM1?token=play-CAM1", 4))));
  EXPECT_EQ(last_status(c), 404) << "nothing is pushed yet";
  ASSERT_TRUE(
      s->feed(bytes(request("ANNOUNCE", "rtsp://h/push/CAM1?token=push-CAM1", 5, {}, "not sdp"))));
  EXPECT_EQ(last_status(c), 400);
  ASSERT_TRUE(s->feed(
      bytes(request("ANNOUNCE", "rtsp://h/push/CAM1?token=push-CAM1", 6, {}, announce_sdp()))));
  ASSERT_TRUE(s->feed(bytes(request("SETUP", "rtsp://h/push/CAM1?token=push-CAM1/streamid=0", 7,
                                    {{"Transport", "RTP/AVP;unicast;client_port=5000-5001"}}))));
  EXPECT_EQ(last_status(c), 461);
  ASSERT_TRUE(s->feed(bytes(request("RECORD", "rtsp://h/push/CAM1?token=push-CAM1", 8))));
  EXPECT_EQ(last_status(c), 455) << "no track set up";
  ASSERT_TRUE(s->feed(bytes(request("FLY", "rtsp://h/push/CAM1", 9))));
  EXPECT_EQ(last_status(c), 501);
  EXPECT_FALSE(s->feed(bytes("garbage that is not rtsp\r\n\r\n")));
}

// When the access behind a token ends (a share revoked, the camera unbound), the server's
// authorizer calls the grant's revocation: the session closes at once, player or pusher.
TEST(RtspSession, ARevokedGrantClosesThePlayerAndThePusher) {
  hub::Hub hub;
  install_rtp_packager(hub);
  AllowToken auth;
  const std::string base = "rtsp://h/push/CAM1?token=push-CAM1";
  FakeConnection pusher_conn;
  auto pusher = std::make_shared<ServerSession>(hub, auth, pusher_conn);
  ASSERT_TRUE(pusher->feed(bytes(request("ANNOUNCE", base, 1, {}, announce_sdp()))));
  ASSERT_EQ(last_status(pusher_conn), 200);
  auto end_push = auth.last_revoke;
  ASSERT_TRUE(pusher->feed(
      bytes(request("SETUP", base + "/streamid=0", 2,
                    {{"Transport", "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record"}}))));
  ASSERT_TRUE(pusher->feed(bytes(request("RECORD", base, 3))));
  ASSERT_TRUE(hub.is_published("push/CAM1"));

  FakeConnection player_conn;
  auto player = std::make_shared<ServerSession>(hub, auth, player_conn);
  ASSERT_TRUE(player->feed(bytes(request("DESCRIBE", "rtsp://h/live/CAM1?token=play-CAM1", 1))));
  ASSERT_EQ(last_status(player_conn), 200);
  ASSERT_TRUE(auth.last_revoke);
  EXPECT_FALSE(player_conn.closed);
  auth.last_revoke();
  EXPECT_TRUE(player_conn.closed) << "the player's access ended";
  EXPECT_FALSE(pusher_conn.closed) << "nobody else's";
  end_push();
  EXPECT_TRUE(pusher_conn.closed);
  // A revocation that comes after the session is gone does nothing.
  player.reset();
  auth.last_revoke();
}

TEST(RtspSession, SecondPusherOfTheSameDeviceIsRefused) {
  hub::Hub hub;
  install_rtp_packager(hub);
  AllowToken auth;
  const std::string base = "rtsp://h/push/CAM1?token=push-CAM1";
  auto push = [&](FakeConnection& c) {
    auto s = std::make_shared<ServerSession>(hub, auth, c);
    (void)s->feed(bytes(request("ANNOUNCE", base, 1, {}, announce_sdp())));
    (void)s->feed(bytes(request("SETUP", base + "/streamid=0", 2,
                                {{"Transport", "RTP/AVP/TCP;unicast;interleaved=0-1"}})));
    (void)s->feed(bytes(request("RECORD", base, 3)));
    return s;
  };
  FakeConnection a, b;
  auto first = push(a);
  EXPECT_EQ(last_status(a), 200);
  auto second = push(b);
  EXPECT_EQ(last_status(b), 453);
}

TEST(RtspSession, ASdCardRecordingIsPushedBesideTheLiveStreamWithItsOwnToken) {
  hub::Hub hub;
  install_rtp_packager(hub);
  AllowToken auth;
  auto push = [&](FakeConnection& c, const std::string& base) {
    auto s = std::make_shared<ServerSession>(hub, auth, c);
    (void)s->feed(bytes(request("ANNOUNCE", base, 1, {}, announce_sdp())));
    if (last_status(c) != 200) return s;
    (void)s->feed(bytes(request("SETUP", base + "/streamid=0", 2,
                                {{"Transport", "RTP/AVP/TCP;unicast;interleaved=0-1"}})));
    (void)s->feed(bytes(request("RECORD", base, 3)));
    return s;
  };
  FakeConnection live_conn, sd_conn, wrong_conn;
  auto live = push(live_conn, "rtsp://h/push/CAM1?token=push-CAM1");
  EXPECT_EQ(last_status(live_conn), 200);
  // A live push token is not a playback token.
  auto wrong = push(wrong_conn, "rtsp://h/sd/CAM1?token=push-CAM1");
  EXPECT_EQ(last_status(wrong_conn), 401);
  auto sd = push(sd_conn, "rtsp://h/sd/CAM1?token=sd-CAM1");
  EXPECT_EQ(last_status(sd_conn), 200);
  EXPECT_TRUE(hub.is_published("push/CAM1"));
  EXPECT_TRUE(hub.is_published("sd/CAM1"));
  // Nobody plays a recording over RTSP as if it were live.
  FakeConnection player_conn;
  auto player = std::make_shared<ServerSession>(hub, auth, player_conn);
  (void)player->feed(bytes(request("DESCRIBE", "rtsp://h/sd/CAM1?token=play-CAM1", 1)));
  EXPECT_EQ(last_status(player_conn), 404);
}

TEST(RtspSession, RtpLossAndGarbageAreCounted) {
  hub::Hub hub;
  install_rtp_packager(hub);
  AllowToken auth;
  metrics::Registry registry;
  const auto counters = RtpCounters::in(registry);
  FakeConnection c;
  auto s = std::make_shared<ServerSession>(hub, auth, c, &counters);
  const std::string base = "rtsp://h/push/CAM1?token=push-CAM1";
  ASSERT_TRUE(s->feed(bytes(request("ANNOUNCE", base, 1, {}, announce_sdp()))));
  ASSERT_TRUE(s->feed(bytes(request("SETUP", base + "/streamid=0", 2,
                                    {{"Transport", "RTP/AVP/TCP;unicast;interleaved=0-1"}}))));
  ASSERT_TRUE(s->feed(bytes(request("RECORD", base, 3))));
  std::string wire;
  auto frame = [&](std::span<const uint8_t> packet) {
    wire += '$';
    wire += char(0);
    wire += char(packet.size() >> 8);
    wire += char(packet.size() & 0xff);
    wire.append(reinterpret_cast<const char*>(packet.data()), packet.size());
  };
  std::vector<uint8_t> p1, p3;
  const auto a = avcc(0x41, 10), b = avcc(0x41, 10);
  rtp::write(p1, 96, true, 1, 0, 1, std::span<const uint8_t>(a).subspan(4));
  rtp::write(p3, 96, true, 3, 3600, 1, std::span<const uint8_t>(b).subspan(4));  // 2 is lost
  frame(p1);
  frame(p3);
  frame(std::vector<uint8_t>{1, 2, 3});  // not RTP at all
  ASSERT_TRUE(s->feed(bytes(wire)));
  EXPECT_EQ(counters.received.value(), 3u);
  EXPECT_EQ(counters.lost.value(), 1u);
  EXPECT_EQ(counters.malformed.value(), 1u);
}

// UDP media from a camera on a network that reorders: packets are put back in order.
class UdpConnection final : public Connection {
 public:
  void send(std::string bytes) override { sent += bytes; }
  void post(std::function<void()> fn) override { fn(); }
  bool writable() const override { return true; }
  void close() override {}
  std::optional<std::pair<int, int>> open_udp(int channel, std::pair<int, int>) override {
    return std::make_pair(40000 + channel, 40001 + channel);
  }
  std::string sent;
};

TEST(RtspSession, UdpPacketsOutOfOrderArePutBackInOrder) {
  hub::Hub hub;
  install_rtp_packager(hub);
  AllowToken auth;
  metrics::Registry registry;
  const auto counters = RtpCounters::in(registry);
  UdpConnection c;
  auto s = std::make_shared<ServerSession>(hub, auth, c, &counters);
  const std::string base = "rtsp://h/push/CAM1?token=push-CAM1";
  ASSERT_TRUE(s->feed(bytes(request("ANNOUNCE", base, 1, {}, announce_sdp()))));
  ASSERT_TRUE(s->feed(bytes(request("SETUP", base + "/streamid=0", 2,
                                    {{"Transport", "RTP/AVP;unicast;client_port=5000-5001"}}))));
  ASSERT_NE(c.sent.find("server_port=40000-40001"), std::string::npos) << c.sent;
  ASSERT_TRUE(s->feed(bytes(request("RECORD", base, 3))));
  auto sub = hub.subscribe("push/CAM1", [] {});
  ASSERT_TRUE(sub);

  // Three access units, one FU-A-fragmented: the packets of the second arrive swapped with
  // the first packet of the third.
  rtp::H264Packetizer packetizer(96, 7, 500, 1400);
  std::vector<std::vector<uint8_t>> packets;
  const auto key = avcc(0x65, 3000), p1 = avcc(0x41, 2000), p2 = avcc(0x41, 100);
  auto keep = [&](std::span<const uint8_t> p) { packets.emplace_back(p.begin(), p.end()); };
  packetizer.packetize(key, 0, keep);
  packetizer.packetize(p1, 3600, keep);
  packetizer.packetize(p2, 7200, keep);
  ASSERT_EQ(packets.size(), 6u);  // 3 + 2 + 1
  std::swap(packets[3], packets[5]);
  std::swap(packets[4], packets[5]);  // order now: 0 1 2 5 3 4
  for (const auto& p : packets) s->on_udp(0, p);
  s.reset();  // the end flushes what is held

  std::vector<hub::FramePtr> frames;
  (*sub)->queue().drain(frames);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0]->data, key);
  EXPECT_EQ(frames[1]->data, p1);
  EXPECT_EQ(frames[2]->data, p2);
  EXPECT_EQ(counters.lost.value(), 0u);
  EXPECT_EQ(counters.reordered.value(), 1u);
}

TEST(StreamUrl, ParsesWhatClientsSend) {
  auto u = parse_stream_url("rtsp://127.0.0.1:8554/push/CAM1?token=abc.def/streamid=0");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->kind, "push");
  EXPECT_EQ(u->serial, "CAM1");
  EXPECT_EQ(u->token, "abc.def");
  EXPECT_EQ(u->track, "streamid=0");
  auto v = parse_stream_url("rtsp://h/live/CAM1/trackID=0?token=t");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->serial, "CAM1");
  EXPECT_EQ(v->track, "trackID=0");
  EXPECT_EQ(v->token, "t");
  auto g = parse_stream_url("rtsp://h:1/push/track1?token=a.b/stream=0");  // GStreamer's form
  ASSERT_TRUE(g);
  EXPECT_EQ(g->serial, "track1");
  EXPECT_EQ(g->track, "stream=0");
  EXPECT_EQ(g->token, "a.b");
  auto bare = parse_stream_url("rtsp://h/live/CAM1?token=t");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->track, "");
  EXPECT_FALSE(parse_stream_url("rtsp://h/live/CAM1/a/b"));
  EXPECT_FALSE(parse_stream_url("rtsp://h"));
  EXPECT_FALSE(parse_stream_url("rtsp://h/nothing"));
  EXPECT_FALSE(parse_stream_url("http://h/push/CAM1"));
}

// Talk lines for one camera, CAM1, whose call the test starts and ends.
class FakeTalk final : public TalkLines {
 public:
  std::optional<Format> format(std::string_view serial) override {
    if (!calling || serial != "CAM1") return std::nullopt;
    return Format{"PCMU", 8000, 0};
  }
  std::unique_ptr<Listener> listen(
      std::string_view serial, std::function<void(std::shared_ptr<const std::vector<uint8_t>>)> p,
      std::function<void()> e) override {
    if (!calling || serial != "CAM1") return nullptr;
    packet = std::move(p);
    ended = std::move(e);
    return std::make_unique<Listener>();
  }
  bool calling = false;
  std::function<void(std::shared_ptr<const std::vector<uint8_t>>)> packet;
  std::function<void()> ended;
};

TEST(RtspSession, ACameraPlaysWhatIsSaidToItOverItsConnection) {
  hub::Hub hub;
  AllowToken auth;
  FakeTalk talk;
  const std::string url = "rtsp://127.0.0.1:8554/talk/CAM1?token=talk-CAM1";
  {  // Without talk served, or with no call, or the wrong token: nothing.
    FakeConnection c;
    auto s = std::make_shared<ServerSession>(hub, auth, c);
    ASSERT_TRUE(s->feed(bytes(request("DESCRIBE", url, 1))));
    EXPECT_EQ(last_status(c), 404);
    s->set_talk(&talk);
    ASSERT_TRUE(s->feed(bytes(request("DESCRIBE", url, 2))));
    EXPECT_EQ(last_status(c), 404) << "no one is talking";
    talk.calling = true;
    ASSERT_TRUE(
        s->feed(bytes(request("DESCRIBE", "rtsp://127.0.0.1:8554/talk/CAM1?token=play-CAM1", 3))));
    EXPECT_EQ(last_status(c), 401) << "a play token is not a talk token";
  }
  FakeConnection c;
  auto s = std::make_shared<ServerSession>(hub, auth, c);
  s->set_talk(&talk);
  ASSERT_TRUE(s->feed(bytes(request("DESCRIBE", url, 1))));
  auto items = c.items();
  ASSERT_EQ(items.back().message.status, 200);
  auto sdp = sdp::parse(items.back().message.body);
  ASSERT_TRUE(sdp);
  ASSERT_EQ(sdp->media.size(), 1u);
  EXPECT_EQ(sdp->media[0].type, "audio");
  EXPECT_EQ(sdp->media[0].encoding, "PCMU");
  EXPECT_EQ(sdp->media[0].clock_rate, 8000);
  ASSERT_TRUE(s->feed(bytes(request("SETUP", "rtsp://127.0.0.1:8554/talk/CAM1/trackID=0", 2,
                                    {{"Transport", "RTP/AVP;unicast;client_port=5000-5001"}}))));
  EXPECT_EQ(last_status(c), 461) << "talk goes over the connection only";
  ASSERT_TRUE(s->feed(bytes(request("PLAY", url, 3))));
  EXPECT_EQ(last_status(c), 455) << "not set up";
  ASSERT_TRUE(s->feed(bytes(request("SETUP", "rtsp://127.0.0.1:8554/talk/CAM1/trackID=0", 4,
                                    {{"Transport", "RTP/AVP/TCP;unicast;interleaved=0-1"}}))));
  EXPECT_EQ(last_status(c), 200);
  ASSERT_TRUE(s->feed(bytes(request("PLAY", url, 5))));
  EXPECT_EQ(last_status(c), 200);
  ASSERT_TRUE(talk.packet);
  c.sent.clear();
  talk.packet(std::make_shared<const std::vector<uint8_t>>(std::vector<uint8_t>{0x80, 0, 1, 2}));
  items = c.items();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].kind, Item::Kind::kFrame);
  EXPECT_EQ(items[0].channel, 0);
  EXPECT_EQ(items[0].frame_payload.size(), 4u);
  EXPECT_FALSE(c.closed);
  talk.ended();
  EXPECT_TRUE(c.closed) << "the call is over: the camera's session ends";
}

// The tracks of a stream share one timeline, which the sender reports follow and RTP-Info
// starts both tracks on: by arrival when the camera sent no sender reports, by its capture
// times when it did, and by arrival relative to the first keyframe when only some frames
// have a capture time.
TEST(Egress, TracksArePlacedOnOneTimeline) {
  hub::StreamInfo info;
  info.video_codec = "H264";
  info.sps = kSps;
  info.pps = kPps;
  info.audio_codec = "AAC";
  info.audio_sample_rate = 48000;
  info.audio_channels = 1;
  info.audio_config = {0x11, 0x88};
  auto frames = [&](int64_t key_capture, int64_t audio_capture) {
    hub::Frame key;
    key.keyframe = true;
    key.timestamp = 900'000;
    key.received_at_us = steady_now_us();
    key.capture_us = key_capture;
    key.data = avcc(0x65, 300);
    hub::Frame audio;
    audio.track = hub::TrackKind::kAudio;
    audio.timestamp = 77'000;  // its own clock, unrelated to the video's
    audio.received_at_us = key.received_at_us + 30'000;
    audio.capture_us = audio_capture;
    audio.data = {1, 2, 3};
    return std::make_pair(key, audio);
  };
  // Milliseconds from the keyframe's instant to the audio frame's, and the audio's RTP time
  // at the keyframe's instant less the audio frame's.
  auto place = [&](int64_t key_capture, int64_t audio_capture) {
    Egress out(info, [](int, bool, std::span<const uint8_t>) {});
    const auto [key, audio] = frames(key_capture, audio_capture);
    EXPECT_FALSE(out.ntp_time(1, 0)) << "no place before a frame";
    out.send(audio);
    EXPECT_FALSE(out.ntp_time(1, 0)) << "audio before the first keyframe is not sent";
    out.send(key);
    out.send(audio);
    const uint64_t key_ntp = *out.ntp_time(0, out.rtp_timestamp(key));
    const uint64_t audio_ntp = *out.ntp_time(1, out.rtp_timestamp(audio));
    const double ms =
        static_cast<double>(static_cast<int64_t>(audio_ntp - key_ntp)) * 1000 / 4294967296.0;
    const int32_t ticks =
        static_cast<int32_t>(*out.rtp_time_at(1, key_ntp) - out.rtp_timestamp(audio));
    return std::make_pair(ms, ticks);
  };
  const auto by_arrival = place(0, 0);
  EXPECT_NEAR(by_arrival.first, 30, 0.01);
  EXPECT_NEAR(by_arrival.second, -1440, 1) << "30 ms at 48 kHz, to the tick";
  const int64_t camera = 1'700'000'000'000'000;  // the camera's clock, far from ours
  const auto by_capture = place(camera, camera - 20'000);
  EXPECT_NEAR(by_capture.first, -20, 0.01) << "captured 20 ms before the keyframe";
  EXPECT_NEAR(by_capture.second, 960, 1);
  const auto mixed = place(camera, 0);
  EXPECT_NEAR(mixed.first, 30, 0.01) << "no capture time: by arrival after the keyframe";
}

}  // namespace
}  // namespace nj::media::rtsp
