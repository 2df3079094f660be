// The media plane under abuse, with real peers beside it: a thousand connections that never
// finish a request, a publisher that stalls, a player that stops reading or falls behind. Each is
// shed or skipped and counted in /metrics, and a well-behaved stream carries on meanwhile.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <thread>

#include "integration/fixture.h"
#include "media/fmp4/demux.h"
#include "media/rtp/packet.h"
#include "media/rtsp/message.h"

namespace nj::testing {
namespace {

using namespace std::chrono_literals;

class MediaAbuseTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // A thousand sockets here, and as many in the server (which inherits the limit).
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 8192);
    setrlimit(RLIMIT_NOFILE, &limit);
    clip_ = std::filesystem::temp_directory_path() /
            ("nj-abuse-clip-" + std::to_string(::getpid()) + ".mp4");
    int status = 0;
    run_command(
        "ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=640x360:rate=25 -t 20 "
        "-c:v libx264 -pix_fmt yuv420p -g 25 -bf 0 '" +
            clip_.string() + "' 2>&1",
        &status);
    ASSERT_EQ(status, 0);
  }
  static void TearDownTestSuite() { std::filesystem::remove(clip_); }

  void SetUp() override { ASSERT_TRUE(server_.start()) << server_.log(); }
  void TearDown() override { EXPECT_EQ(server_.stop(), 0) << server_.log(); }

  std::string token(const std::string& serial, const std::string& purpose) {
    auto t = server_.admin("stream-token --serial " + serial + " --purpose " + purpose);
    while (!t.empty() && t.back() == '\n') t.pop_back();
    return t;
  }
  std::string url(const std::string& kind, const std::string& serial) {
    return "rtsp://127.0.0.1:" + std::to_string(server_.rtsp_port()) + "/" + kind + "/" + serial +
           "?token=" + token(serial, kind == "push" ? "push" : "play");
  }
  std::unique_ptr<BackgroundCommand> push(const std::string& serial, const std::string& clip) {
    return std::make_unique<BackgroundCommand>(
        "exec ffmpeg -loglevel error -re -stream_loop -1 -i '" + clip +
        "' -c copy -f rtsp -rtsp_transport tcp '" + url("push", serial) + "' 2>/dev/null");
  }
  bool wait_live(const std::string& serial) {
    const auto live = url("live", serial);
    for (int i = 0; i < 100; ++i) {
      int status = 1;
      run_command("ffprobe -v quiet -rtsp_transport tcp '" + live + "' >/dev/null 2>&1", &status);
      if (status == 0) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }
  // A 3 s decode of the stream, with its wall time: a stream that keeps up takes 2–3 s (the
  // cached GOP, up to 1 s here, comes at once), one cut short takes less: callers check both.
  std::pair<int, std::chrono::milliseconds> decode(const std::string& serial) {
    const auto start = std::chrono::steady_clock::now();
    int status = 1;
    const auto errors = run_command(
        "ffmpeg -v error -rtsp_transport tcp -i '" + url("live", serial) + "' -t 3 -f null - 2>&1",
        &status);
    EXPECT_EQ(errors, "");
    return {status, std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)};
  }
  // 4 s of noise at a high rate (about 60 Mbit/s), or an empty path if ffmpeg failed.
  static std::filesystem::path heavy_clip(const std::string& name) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("nj-abuse-" + name + "-" + std::to_string(::getpid()) + ".mp4");
    int status = 1;
    run_command(
        "ffmpeg -loglevel error -y -f lavfi -i \"nullsrc=s=640x360:r=25,geq=random(1)*255:"
        "128:128\" -t 4 -c:v libx264 -preset ultrafast -qp 10 -g 25 -bf 0 -pix_fmt "
        "yuv420p '" +
            path.string() + "' 2>&1",
        &status);
    return status == 0 ? path : std::filesystem::path();
  }
  double metric(const std::string& series) {
    const auto text = server_.get("/metrics").body;
    const auto at = text.find(series + " ");
    return at == std::string::npos ? 0 : std::stod(text.substr(at + series.size() + 1));
  }

  ServerProcess server_{"[rtsp]\nidle_timeout_ms = 3000\nsend_queue_bytes = 65536\n"};
  static std::filesystem::path clip_;
};
std::filesystem::path MediaAbuseTest::clip_;

TEST_F(MediaAbuseTest, AThousandUnfinishedRequestsAreShedAndStreamsCarryOn) {
  auto camera = push("GOOD1", clip_.string());
  ASSERT_TRUE(wait_live("GOOD1")) << server_.log();
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 1000; ++i) {
    idle.push_back(std::make_unique<RawConnection>(server_.rtsp_port()));
    ASSERT_TRUE(idle.back()->connected()) << i;
    idle.back()->send("OPTIONS rtsp://127.0.0.1/live/GOOD1 RTSP/1.0\r\nCSeq: 1\r\n");  // no end
  }
  // With the thousand hanging on, the camera's stream still plays in real time.
  auto [status, took] = decode("GOOD1");
  EXPECT_EQ(status, 0);
  EXPECT_GT(took, 1800ms);
  EXPECT_LT(took, 6s);
  // Each is cut after the idle timeout, and counted.
  int closed = 0;
  for (auto& c : idle) closed += c->closed_within(6s) ? 1 : 0;
  EXPECT_EQ(closed, 1000);
  EXPECT_GE(metric("nightjar_rtsp_connections_closed_total{reason=\"idle_timeout\"}"), 1000);
  EXPECT_EQ(decode("GOOD1").first, 0);
}

TEST_F(MediaAbuseTest, AStalledPublisherIsCutAndItsViewersAreToldOthersAreUnaffected) {
  auto camera = push("GOOD2", clip_.string());
  ASSERT_TRUE(wait_live("GOOD2")) << server_.log();
  // A publisher that announces, records, sends one keyframe and then nothing.
  RawConnection stalled(server_.rtsp_port());
  const std::string base = url("push", "STALL");
  const std::string sdp =
      "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n"
      "a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;sprop-parameter-sets="
      "Z2QAHqzZQKAv+XARAAADAAEAAAMAMg8WLZY=,aOvjyyLA\r\na=control:streamid=0\r\n";
  stalled.send("ANNOUNCE " + base + " RTSP/1.0\r\nCSeq: 1\r\nContent-Type: application/sdp\r\n" +
               "Content-Length: " + std::to_string(sdp.size()) + "\r\n\r\n" + sdp);
  ASSERT_NE(stalled.read_until("\r\n\r\n", 2s).find("200 OK"), std::string::npos);
  stalled.send("SETUP " + base +
               "/streamid=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: "
               "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record\r\n\r\n");
  ASSERT_NE(stalled.read_until("\r\n\r\n", 2s).find("200 OK"), std::string::npos);
  stalled.send("RECORD " + base + " RTSP/1.0\r\nCSeq: 3\r\n\r\n");
  ASSERT_NE(stalled.read_until("\r\n\r\n", 2s).find("200 OK"), std::string::npos);
  const std::string idr = {'\x80', '\xe0', 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, '\x65', 1, 2, 3};
  stalled.send(std::string("$\0\0", 3) + static_cast<char>(idr.size()) + idr);

  WsClient viewer;
  ASSERT_EQ(viewer.connect(server_.http_port(),
                           "/api/v1/devices/STALL/live?token=" + token("STALL", "play")),
            101);
  // It goes quiet; after the idle timeout the server cuts it, ends the stream and tells
  // its viewer so; the good camera plays on.
  bool ended = false;
  for (int i = 0; i < 8 && !ended; ++i) {  // init, its segment, the keyframe, then the end
    auto message = viewer.receive(8s);     // (a timed-out receive ends the client)
    if (!message) break;
    if (message->find("\"ended\"") != std::string::npos) ended = true;
  }
  EXPECT_TRUE(ended);
  EXPECT_TRUE(stalled.closed_within(3s));
  EXPECT_GE(metric("nightjar_rtsp_connections_closed_total{reason=\"idle_timeout\"}"), 1);
  int status = 1;
  run_command("ffprobe -v quiet -rtsp_transport tcp '" + url("live", "STALL") + "' 2>&1", &status);
  EXPECT_NE(status, 0) << "the stalled stream is gone";
  EXPECT_EQ(decode("GOOD2").first, 0);
}

// The idle timeout counts UDP media as activity: a camera pushing over UDP sends nothing on
// its RTSP connection for long stretches, and must not be cut for it.
TEST_F(MediaAbuseTest, AUdpPublisherIsKeptAliveByItsMedia) {
  BackgroundCommand camera("exec ffmpeg -loglevel error -re -stream_loop -1 -i '" + clip_.string() +
                           "' -c copy -f rtsp -rtsp_transport udp '" + url("push", "UDPCAM") +
                           "' 2>/dev/null");
  ASSERT_TRUE(wait_live("UDPCAM")) << server_.log();
  std::this_thread::sleep_for(5s);  // well past the 3 s idle timeout
  auto [status, took] = decode("UDPCAM");
  EXPECT_EQ(status, 0);
  EXPECT_GT(took, 1800ms) << "played for the whole 3 s";
  EXPECT_EQ(metric("nightjar_rtsp_connections_closed_total{reason=\"idle_timeout\"}"), 0);
}

TEST_F(MediaAbuseTest, APlayerThatStopsReadingIsSkippedAndOthersKeepUp) {
  // A heavy stream fills a stuck player's buffers in seconds.
  const auto heavy = heavy_clip("heavy");
  ASSERT_FALSE(heavy.empty());
  auto camera = push("HEAVY", heavy.string());
  ASSERT_TRUE(wait_live("HEAVY")) << server_.log();

  RawConnection stuck(server_.rtsp_port());
  const auto live = url("live", "HEAVY");
  stuck.send("DESCRIBE " + live + " RTSP/1.0\r\nCSeq: 1\r\n\r\n");
  const auto described = stuck.read_until("trackID=0\r\n", 2s);
  ASSERT_NE(described.find("200 OK"), std::string::npos) << described;
  stuck.send("SETUP " + live.substr(0, live.find('?')) + "/trackID=0 RTSP/1.0\r\nCSeq: 2\r\n" +
             "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n");
  ASSERT_NE(stuck.read_until("\r\n\r\n", 2s).find("200 OK"), std::string::npos);
  stuck.send("PLAY " + live + " RTSP/1.0\r\nCSeq: 3\r\n\r\n");
  // … and from here on it reads nothing.
  std::this_thread::sleep_for(6s);

  // Another player of the same stream still decodes 3 s in about 3 s.
  auto [ok, took] = decode("HEAVY");
  EXPECT_EQ(ok, 0);
  EXPECT_GT(took, 1800ms);
  EXPECT_LT(took, 6s);
  EXPECT_GT(metric("nightjar_media_viewer_dropped_frames_total{output=\"rtsp\"}"), 0)
      << "the stuck player was skipped";
  // Memory stays bounded by the queue limits, not by how long it is stuck. (Not under
  // AddressSanitizer, whose quarantine keeps freed memory resident on purpose.)
#ifndef __SANITIZE_ADDRESS__
  const long rss = server_.rss_kb();
  EXPECT_GT(rss, 0);
  EXPECT_LT(rss, 200 * 1024) << "KB";
#endif
  std::filesystem::remove(heavy);
}

TEST_F(MediaAbuseTest, APlayerThatFallsBehindGetsWholePacketsWhenItReadsAgain) {
  // Writes that its full socket takes only in part go on where they stopped: once the
  // player reads again, every interleaved packet it gets is whole, skipped frames or not.
  const auto heavy = heavy_clip("behind");
  ASSERT_FALSE(heavy.empty());
  auto camera = push("BEHIND", heavy.string());
  ASSERT_TRUE(wait_live("BEHIND")) << server_.log();

  RawConnection player(server_.rtsp_port(), 256 * 1024);
  const auto live = url("live", "BEHIND");
  player.send("DESCRIBE " + live + " RTSP/1.0\r\nCSeq: 1\r\n\r\n");
  ASSERT_NE(player.read_until("trackID=0\r\n", 2s).find("200 OK"), std::string::npos);
  player.send("SETUP " + live.substr(0, live.find('?')) + "/trackID=0 RTSP/1.0\r\nCSeq: 2\r\n" +
              "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n");
  ASSERT_NE(player.read_until("\r\n\r\n", 2s).find("200 OK"), std::string::npos);
  player.send("PLAY " + live + " RTSP/1.0\r\nCSeq: 3\r\n\r\n");
  // It reads for a moment, then nothing for a while, over and over: each time its socket
  // fills as live frames come, and the write that fills it is often taken only in part.
  std::string got;
  for (int i = 0; i < 8; ++i) {
    got += player.read_all(250ms);
    std::this_thread::sleep_for(1s);
  }
  got += player.read_all(1s);

  const size_t head_end = got.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  ASSERT_NE(got.find("RTSP/1.0 200 OK"), std::string::npos);
  size_t at = head_end + 4;
  size_t packets = 0;
  while (at + 4 <= got.size()) {
    ASSERT_EQ(got[at], '$') << "packet " << packets << " at byte " << at;
    ASSERT_LE(static_cast<uint8_t>(got[at + 1]), 1) << "channel of packet " << packets;
    const size_t length =
        (static_cast<uint8_t>(got[at + 2]) << 8) | static_cast<uint8_t>(got[at + 3]);
    ASSERT_GE(length, 12u) << "packet " << packets;
    if (at + 4 + length > got.size()) break;  // the read ended inside it
    if (got[at + 1] == 0) {
      ASSERT_EQ(static_cast<uint8_t>(got[at + 4]) >> 6, 2) << "RTP version, packet " << packets;
    }
    at += 4 + length;
    ++packets;
  }
  EXPECT_GT(packets, 500u) << "it got the stream once it read again";
  std::filesystem::remove(heavy);
}

TEST_F(MediaAbuseTest, EveryPlayerOfABusyStreamGetsEveryPacket) {
  // One frame wakes all of a stream's players at once, across the server's event loops, and
  // the wake-ups of one loop are run together: none may be lost. Sixteen players that keep
  // reading each get every video packet, in sequence, to the end.
  auto camera = push("MANY", clip_.string());
  ASSERT_TRUE(wait_live("MANY")) << server_.log();
  const auto live = url("live", "MANY");
  constexpr int kPlayers = 16;
  std::vector<std::string> got(kPlayers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kPlayers; ++i) {
    threads.emplace_back([&, i] {
      RawConnection player(server_.rtsp_port());
      player.send("DESCRIBE " + live + " RTSP/1.0\r\nCSeq: 1\r\n\r\n");
      if (player.read_until("trackID=0\r\n", 2s).find("200 OK") == std::string::npos) return;
      player.send("SETUP " + live.substr(0, live.find('?')) + "/trackID=0 RTSP/1.0\r\nCSeq: 2\r\n" +
                  "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n");
      if (player.read_until("\r\n\r\n", 2s).find("200 OK") == std::string::npos) return;
      player.send("PLAY " + live + " RTSP/1.0\r\nCSeq: 3\r\n\r\n");
      got[i] = player.read_all(4s);
    });
  }
  for (auto& t : threads) t.join();

  std::vector<size_t> counts;
  for (int i = 0; i < kPlayers; ++i) {
    // The PLAY answer, then interleaved RTP (RTSP's own parser reads both).
    std::span<const uint8_t> rest(reinterpret_cast<const uint8_t*>(got[i].data()), got[i].size());
    size_t packets = 0;
    bool answered = false;
    std::optional<uint16_t> last;
    for (;;) {
      media::rtsp::Item item;
      const auto used = media::rtsp::parse(rest, item);
      ASSERT_TRUE(used) << "player " << i;
      if (*used == 0) break;  // the read ended inside it
      rest = rest.subspan(*used);
      if (item.kind == media::rtsp::Item::Kind::kMessage) {
        answered = answered || item.message.status == 200;
        continue;
      }
      if (item.channel != 0) continue;
      const auto rtp = media::rtp::parse(item.frame_payload);
      ASSERT_TRUE(rtp) << "player " << i;
      if (last) {
        ASSERT_EQ(rtp->sequence, static_cast<uint16_t>(*last + 1)) << "player " << i;
      }
      last = rtp->sequence;
      ++packets;
    }
    ASSERT_TRUE(answered) << "player " << i;
    counts.push_back(packets);
  }
  const size_t most = *std::max_element(counts.begin(), counts.end());
  EXPECT_GT(most, 100u);
  for (int i = 0; i < kPlayers; ++i) {
    EXPECT_GT(counts[i], most * 9 / 10) << "player " << i << " stopped getting the stream";
  }
}

TEST_F(MediaAbuseTest, EveryWebSocketViewerOfABusyStreamGetsEveryFragment) {
  // The same for the live fMP4 viewers: eight of them each get every fragment (the stream's
  // fragments are numbered in order, audio and video alike), to the end.
  auto camera = push("MANYWS", clip_.string());
  ASSERT_TRUE(wait_live("MANYWS")) << server_.log();
  const std::string path = "/api/v1/devices/MANYWS/live?token=" + token("MANYWS", "play");
  constexpr int kViewers = 8;
  std::vector<std::vector<uint32_t>> sequences(kViewers);
  std::vector<int> unreadable(kViewers);  // a message that was not whole fragments
  std::vector<std::thread> threads;
  for (int i = 0; i < kViewers; ++i) {
    threads.emplace_back([&, i] {
      WsClient ws;
      if (ws.connect(server_.http_port(), path) != 101) return;
      std::optional<media::fmp4::DemuxInit> init;
      const auto until = std::chrono::steady_clock::now() + 4s;
      while (std::chrono::steady_clock::now() < until) {
        const auto message = ws.receive(2s);
        if (!message) return;
        if (!message->empty() && message->front() == '{') continue;  // JSON: the stream's info
        // The init segment, then messages of whole fragments (the fMP4 demuxer reads both).
        const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(message->data()),
                                             message->size());
        if (!init) {
          if (auto parsed = media::fmp4::parse_init(bytes)) init = std::move(*parsed);
          continue;
        }
        for (size_t at = 0; at < bytes.size();) {
          const auto fragment = media::fmp4::parse_fragment(bytes.subspan(at), *init);
          if (!fragment) {
            unreadable[i] = 1;
            break;
          }
          sequences[i].push_back(fragment->sequence);
          at += fragment->size;
        }
      }
    });
  }
  for (auto& t : threads) t.join();

  size_t most = 0;
  for (const auto& s : sequences) most = std::max(most, s.size());
  EXPECT_GT(most, 100u);
  for (int i = 0; i < kViewers; ++i) {
    EXPECT_EQ(unreadable[i], 0) << "viewer " << i;
    for (size_t k = 1; k < sequences[i].size(); ++k) {
      ASSERT_EQ(sequences[i][k], sequences[i][k - 1] + 1) << "viewer " << i << ", fragment " << k;
    }
    EXPECT_GT(sequences[i].size(), most * 9 / 10) << "viewer " << i << " stopped getting it";
  }
}

}  // namespace
}  // namespace nj::testing
