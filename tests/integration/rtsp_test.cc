// RTSP in and out with real peers: ffmpeg pushes a camera's stream to push/{serial}; ffprobe
// and ffmpeg play live/{serial} and must see the same codec, size and rate, and decode it
// without error. Tokens are bound to the device and the purpose.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "common/random.h"
#include "integration/fixture.h"

namespace nj::testing {
namespace {

using namespace std::chrono_literals;

class RtspTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    clip_ = std::filesystem::temp_directory_path() /
            ("nj-rtsp-clip-" + std::to_string(::getpid()) + ".mp4");
    int status = 0;
    // H.264 (no B-frames, a keyframe a second) + AAC, as a camera would send; 20 s, so the
    // pusher does not loop (and jump its timestamps) while a test runs.
    run_command(
        "ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=640x360:rate=25 -f lavfi "
        "-i sine=frequency=1000:sample_rate=48000 -t 20 -c:v libx264 -pix_fmt yuv420p -g 25 "
        "-bf 0 -c:a aac -shortest '" +
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
  std::string url(const std::string& kind, const std::string& serial, const std::string& tok) {
    return "rtsp://127.0.0.1:" + std::to_string(server_.rtsp_port()) + "/" + kind + "/" + serial +
           "?token=" + tok;
  }
  std::unique_ptr<BackgroundCommand> push(const std::string& serial, const std::string& tok) {
    return std::make_unique<BackgroundCommand>(
        "exec ffmpeg -loglevel error -re -stream_loop -1 -i '" + clip_.string() +
        "' -c copy -f rtsp -rtsp_transport tcp '" + url("push", serial, tok) + "' 2>/dev/null");
  }
  // Waits until the stream can be described (the pusher is up).
  bool wait_live(const std::string& serial) {
    const auto play = token(serial, "play");
    for (int i = 0; i < 100; ++i) {
      int status = 1;
      run_command("ffprobe -v quiet -rtsp_transport tcp '" + url("live", serial, play) +
                      "' >/dev/null 2>&1",
                  &status);
      if (status == 0) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  ServerProcess server_;
  static std::filesystem::path clip_;
};
std::filesystem::path RtspTest::clip_;

TEST_F(RtspTest, FfmpegPushesAndFfprobeSeesTheSameStream) {
  ASSERT_GT(server_.rtsp_port(), 0);
  auto pusher = push("CAM1", token("CAM1", "push"));
  ASSERT_TRUE(wait_live("CAM1")) << server_.log();
  const auto live = url("live", "CAM1", token("CAM1", "play"));
  auto probe = nlohmann::json::parse(
      run_command("ffprobe -v error -rtsp_transport tcp -show_entries "
                  "stream=codec_name,width,height,r_frame_rate,sample_rate,channels -of json '" +
                  live + "'"),
      nullptr, false);
  ASSERT_TRUE(probe.is_object());
  ASSERT_EQ(probe["streams"].size(), 2u) << probe.dump();
  const auto& s = probe["streams"][0];
  EXPECT_EQ(s["codec_name"], "h264");
  EXPECT_EQ(s["width"], 640);
  EXPECT_EQ(s["height"], 360);
  EXPECT_EQ(s["r_frame_rate"], "25/1");
  const auto& a = probe["streams"][1];
  EXPECT_EQ(a["codec_name"], "aac");
  EXPECT_EQ(a["sample_rate"], "48000");
  EXPECT_EQ(a["channels"], 1);

  // 3 s of video and audio decode without a single error; the video comes in order, with
  // continuous timestamps.
  int status = 1;
  const auto errors = run_command(
      "ffmpeg -v error -rtsp_transport tcp -i '" + live + "' -map 0 -t 3 -f null - 2>&1", &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(errors, "");
  const auto times = run_command(
      "ffprobe -v error -rtsp_transport tcp -select_streams v "
      "-show_entries packet=pts_time -read_intervals %+#60 "
      "-of csv=p=0 '" +
      live + "'");
  std::istringstream lines(times);
  std::vector<double> pts;
  for (std::string line; std::getline(lines, line);) {
    while (!line.empty() && (line.back() == ',' || line.back() == '\r')) line.pop_back();
    // The very first packet may have no time yet ("N/A"): the client's clock starts with it.
    if (!line.empty() && line != "N/A") pts.push_back(std::stod(line));
  }
  ASSERT_GE(pts.size(), 50u);
  for (size_t i = 1; i < pts.size(); ++i) {
    EXPECT_NEAR(pts[i] - pts[i - 1], 0.04, 0.002) << "frame " << i;
  }
  EXPECT_TRUE(pusher->running()) << "the pusher is still streaming";
  // RTP is counted in /metrics: received and sent, and nothing lost on loopback.
  const auto metrics = server_.get("/metrics").body;
  EXPECT_NE(metrics.find("nightjar_rtp_packets_total{outcome=\"received\"}"), std::string::npos);
  EXPECT_NE(metrics.find("nightjar_rtp_packets_total{outcome=\"lost\"} 0\n"), std::string::npos)
      << metrics;
  EXPECT_EQ(metrics.find("nightjar_rtp_packets_total{outcome=\"sent\"} 0\n"), std::string::npos);
}

// Players join a running H.264 + AAC stream at random moments, so each starts from the
// cached GOP at a different point: each gets audio and video on one timeline, from the
// keyframe's instant, with timestamps that never go back (RTP-Info, the sender reports and
// the packets agree). So do WebSocket viewers of the live fMP4.
TEST_F(RtspTest, PlayersJoiningARunningStreamGetTimestampsThatNeverGoBack) {
  auto pusher = push("CAM9", token("CAM9", "push"));
  ASSERT_TRUE(wait_live("CAM9")) << server_.log();
  const auto live = url("live", "CAM9", token("CAM9", "play"));
  const auto dir = std::filesystem::temp_directory_path() /
                   ("nj-join-" + std::to_string(::getpid()) + "-" + random_hex_id());
  std::filesystem::create_directories(dir);
  std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> pause_ms(20, 300);
  constexpr int kPlayers = 50;
  std::string script;
  for (int i = 0; i < kPlayers; ++i) {
    script += "ffmpeg -nostdin -v warning -rtsp_transport tcp -i '" + live +
              "' -map 0 -c copy -t 2 -f null - >'" + (dir / std::to_string(i)).string() +
              ".log' 2>&1 &\nsleep 0." + std::to_string(1000 + pause_ms(rng)).substr(1) + "\n";
  }
  script += "wait\n";
  std::ofstream(dir / "join.sh") << script;

  // WebSocket viewers join at random moments meanwhile; each keeps about a second of fMP4.
  std::vector<std::string> feeds;
  std::thread viewers([&] {
    for (int v = 0; v < 5; ++v) {
      std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng) * 4));
      WsClient ws;
      if (ws.connect(server_.http_port(),
                     "/api/v1/devices/CAM9/live?token=" + token("CAM9", "play")) != 101) {
        continue;
      }
      ws.receive(5s);  // the JSON hello
      std::string file;
      for (int i = 0; i < 75; ++i) {
        auto message = ws.receive(5s);
        if (!message) break;
        file += *message;
      }
      feeds.push_back(std::move(file));
    }
  });
  int status = 1;
  run_command("sh '" + (dir / "join.sh").string() + "'", &status);
  viewers.join();
  EXPECT_EQ(status, 0);

  int played = 0;
  for (int i = 0; i < kPlayers; ++i) {
    std::ifstream in(dir / (std::to_string(i) + ".log"));
    const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(log.find("monoton"), std::string::npos) << "player " << i << ":\n" << log;
    if (log.find("rror") == std::string::npos) ++played;
  }
  EXPECT_EQ(played, kPlayers) << "every player played without an error";

  ASSERT_EQ(feeds.size(), 5u);
  for (size_t v = 0; v < feeds.size(); ++v) {
    const auto path = dir / ("viewer" + std::to_string(v) + ".mp4");
    std::ofstream(path, std::ios::binary) << feeds[v];
    const auto log = run_command("ffmpeg -nostdin -v warning -i '" + path.string() +
                                 "' -map 0 -c copy -f null - 2>&1");
    EXPECT_EQ(log.find("monoton"), std::string::npos) << "viewer " << v << ":\n" << log;
    // Both tracks start together: audio no later than a frame after the video.
    const auto starts = run_command(
        "ffprobe -v error -show_entries stream=start_time -of csv=p=0 '" + path.string() + "'");
    std::istringstream lines(starts);
    std::vector<double> start;
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty() && line != "N/A") start.push_back(std::stod(line));
    }
    ASSERT_EQ(start.size(), 2u) << starts;
    EXPECT_LE(std::abs(start[1] - start[0]), 0.05) << "viewer " << v << ": " << starts;
  }
  EXPECT_TRUE(pusher->running());
  std::filesystem::remove_all(dir);
}

TEST_F(RtspTest, TokensAreBoundToDeviceAndPurpose) {
  auto pusher = push("CAM2", token("CAM2", "push"));
  ASSERT_TRUE(wait_live("CAM2")) << server_.log();
  int status = 0;
  run_command("ffprobe -v quiet -rtsp_transport tcp '" +
                  url("live", "CAM2", token("CAM2", "push")) + "' 2>&1",
              &status);
  EXPECT_NE(status, 0) << "a push token cannot play";
  run_command("ffprobe -v quiet -rtsp_transport tcp '" +
                  url("live", "CAM2", token("CAM9", "play")) + "' 2>&1",
              &status);
  EXPECT_NE(status, 0) << "another device's token cannot play";
  run_command("ffprobe -v quiet -rtsp_transport tcp '" + url("live", "CAM2", "made.up") + "' 2>&1",
              &status);
  EXPECT_NE(status, 0);
  // A second pusher for the same device is refused while the first streams.
  run_command("timeout 10 ffmpeg -loglevel quiet -re -i '" + clip_.string() +
                  "' -t 1 -c copy -f rtsp -rtsp_transport tcp '" +
                  url("push", "CAM2", token("CAM2", "push")) + "' 2>&1",
              &status);
  EXPECT_NE(status, 0);
  EXPECT_TRUE(pusher->running());
}

TEST_F(RtspTest, LiveWebSocketCarriesFmp4ThatFfprobeAccepts) {
  auto pusher = push("CAM3", token("CAM3", "push"));
  ASSERT_TRUE(wait_live("CAM3")) << server_.log();
  WsClient refused;
  EXPECT_EQ(refused.connect(server_.http_port(),
                            "/api/v1/devices/CAM3/live?token=" + token("CAM3", "push")),
            401);
  WsClient offline;
  EXPECT_EQ(offline.connect(server_.http_port(),
                            "/api/v1/devices/CAM4/live?token=" + token("CAM4", "play")),
            404);

  WsClient ws;
  ASSERT_EQ(
      ws.connect(server_.http_port(), "/api/v1/devices/CAM3/live?token=" + token("CAM3", "play")),
      101);
  auto hello = ws.receive(5s);
  ASSERT_TRUE(hello);
  auto info = nlohmann::json::parse(*hello);
  EXPECT_EQ(info["type"], "init");
  EXPECT_EQ(info["codec"], "avc1.64001e,mp4a.40.2") << "H.264 and AAC in one fMP4 feed";
  EXPECT_EQ(info["width"], 640);
  std::string file;
  for (int i = 0; i < 150; ++i) {  // the init segment, then video and audio fragments (~2 s)
    auto message = ws.receive(5s);
    ASSERT_TRUE(message) << "message " << i;
    file += *message;
  }
  const auto path =
      std::filesystem::temp_directory_path() / ("nj-live-" + std::to_string(::getpid()) + ".mp4");
  std::ofstream(path, std::ios::binary) << file;
  int status = 0;
  EXPECT_EQ(
      run_command("ffmpeg -v error -i '" + path.string() + "' -map 0 -f null - 2>&1", &status), "");
  auto probe = nlohmann::json::parse(
      run_command("ffprobe -v error -count_frames -show_entries "
                  "stream=codec_name,height,sample_rate,nb_read_frames -of json '" +
                  path.string() + "'"),
      nullptr, false);
  ASSERT_TRUE(probe.is_object());
  ASSERT_EQ(probe["streams"].size(), 2u) << probe.dump();
  EXPECT_EQ(probe["streams"][0]["codec_name"], "h264");
  EXPECT_EQ(probe["streams"][0]["height"], 360);
  EXPECT_GE(std::stoi(probe["streams"][0]["nb_read_frames"].get<std::string>()), 40);
  EXPECT_EQ(probe["streams"][1]["codec_name"], "aac");
  EXPECT_EQ(probe["streams"][1]["sample_rate"], "48000");
  EXPECT_GE(std::stoi(probe["streams"][1]["nb_read_frames"].get<std::string>()), 60);
  std::filesystem::remove(path);
}

// Live LL-HLS: the playlist follows RFC 8216 and its low-latency rules (parts within the
// part target, segments within the target duration, a continuous media sequence, blocking
// reload), its media passes ffprobe, and ffmpeg decodes it without an error.
TEST_F(RtspTest, LiveLowLatencyHlsFollowsTheRulesAndDecodes) {
  auto pusher = push("HLS1", token("HLS1", "push"));
  ASSERT_TRUE(wait_live("HLS1")) << server_.log();
  const auto play = token("HLS1", "play");
  const std::string base = "/api/v1/devices/HLS1/";
  EXPECT_EQ(server_.get(base + "live.m3u8?token=wrong").status, 401);
  EXPECT_EQ(server_.get("/api/v1/devices/NOPE/live.m3u8?token=" + token("NOPE", "play")).status,
            404);
  EXPECT_EQ(server_.get(base + "live.m3u8?token=" + play + "&_HLS_msn=999999").status, 400);
  EXPECT_EQ(server_.get(base + "live.m3u8?token=" + play + "&_HLS_part=1").status, 400);
  EXPECT_EQ(server_.get(base + "hls/x.m4s?token=" + play).status, 404);

  auto parse = [](const std::string& text, const std::string& tag) {
    std::vector<double> out;
    for (size_t at = text.find(tag); at != std::string::npos; at = text.find(tag, at + 1)) {
      out.push_back(std::stod(text.substr(at + tag.size())));
    }
    return out;
  };
  const auto first = server_.get(base + "live.m3u8?token=" + play);
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.header("content-type"), "application/vnd.apple.mpegurl");
  // Wait until a few segments are listed, then check the rules on that playlist.
  std::string text;
  for (int i = 0; i < 80; ++i) {
    text = server_.get(base + "live.m3u8?token=" + play).body;
    if (parse(text, "#EXTINF:").size() >= 3) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_GE(parse(text, "#EXTINF:").size(), 3u) << text;
  EXPECT_EQ(text.rfind("#EXTM3U\n", 0), 0u);
  const double target = parse(text, "#EXT-X-TARGETDURATION:").at(0);
  const double part_target = parse(text, "PART-TARGET=").at(0);
  const double hold_back = parse(text, "PART-HOLD-BACK=").at(0);
  EXPECT_GE(hold_back, 3 * part_target);
  for (double d : parse(text, "#EXTINF:")) EXPECT_LE(std::lround(d), target);
  for (double d : parse(text, "#EXT-X-PART:DURATION=")) EXPECT_LE(d, part_target + 1e-9);
  EXPECT_NE(text.find("#EXT-X-MAP:URI=\"hls/init.mp4?token="), std::string::npos);
  EXPECT_NE(text.find("#EXT-X-PRELOAD-HINT:TYPE=PART,URI="), std::string::npos);
  const int64_t sequence = static_cast<int64_t>(parse(text, "#EXT-X-MEDIA-SEQUENCE:").at(0));
  const auto segments = parse(text, "#EXTINF:");
  const int64_t next = sequence + static_cast<int64_t>(segments.size());  // in progress

  // Blocking reload: asking for the segment after the one in progress waits until it
  // exists, then the playlist lists it; the sequence never goes back.
  const auto start = std::chrono::steady_clock::now();
  const auto blocked = server_.get(base + "live.m3u8?token=" + play +
                                   "&_HLS_msn=" + std::to_string(next + 1) + "&_HLS_part=0");
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(blocked.status, 200);
  EXPECT_GT(waited, 100ms) << "it waited for the part";
  EXPECT_NE(blocked.body.find("hls/p" + std::to_string(next + 1) + ".0.m4s"), std::string::npos)
      << blocked.body;
  EXPECT_NE(blocked.body.find("hls/s" + std::to_string(next) + ".m4s"), std::string::npos);
  EXPECT_GE(parse(blocked.body, "#EXT-X-MEDIA-SEQUENCE:").at(0), sequence);
  // A part the segment will end without (it is cut at the next keyframe first) does not
  // hang: the segment's end answers it.
  const auto latest = static_cast<int64_t>(parse(blocked.body, "#EXT-X-MEDIA-SEQUENCE:").at(0)) +
                      static_cast<int64_t>(parse(blocked.body, "#EXTINF:").size());
  const auto beyond_start = std::chrono::steady_clock::now();
  const auto beyond = server_.get(base + "live.m3u8?token=" + play +
                                  "&_HLS_msn=" + std::to_string(latest) + "&_HLS_part=50");
  EXPECT_EQ(beyond.status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - beyond_start, 3s) << "answered at the segment's end";
  EXPECT_EQ(server_.get(base + "hls/p" + std::to_string(latest) + ".50.m4s?token=" + play).status,
            404);

  // The media: a complete segment and the init segment pass ffprobe together.
  const auto init = server_.get(base + "hls/init.mp4?token=" + play);
  const auto segment = server_.get(base + "hls/s" + std::to_string(next) + ".m4s?token=" + play);
  ASSERT_EQ(init.status, 200);
  ASSERT_EQ(segment.status, 200);
  const auto file =
      std::filesystem::temp_directory_path() / ("nj-hls-" + std::to_string(::getpid()) + ".mp4");
  {
    std::ofstream out(file, std::ios::binary);
    out << init.body << segment.body;
  }
  int status = 1;
  const auto frames = run_command(
      "ffprobe -v error -count_frames -select_streams v -show_entries "
      "stream=codec_name,width,height,nb_read_frames -of csv=p=0 '" +
          file.string() + "' 2>&1",
      &status);
  EXPECT_EQ(status, 0) << frames;
  EXPECT_EQ(frames.substr(0, frames.find('\n')), "h264,640,360,25") << "one second, all frames";
  std::filesystem::remove(file);

  // ffmpeg plays the live playlist itself for 3 s without an error.
  const std::string url =
      "http://127.0.0.1:" + std::to_string(server_.http_port()) + base + "live.m3u8?token=" + play;
  const auto errors =
      run_command("ffmpeg -v error -i '" + url + "' -map 0 -t 3 -f null - 2>&1", &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(errors, "");
}

// Snapshots: the latest keyframe as a JPEG that ffprobe reads at the stream's size, made
// once per keyframe (a second request gets the same picture), never cached by the browser.
TEST_F(RtspTest, SnapshotIsAJpegOfTheLatestKeyframe) {
  const std::string base = "/api/v1/devices/SNAP1/snapshot.jpg?token=";
  EXPECT_EQ(server_.get(base + token("SNAP1", "play")).status, 404);  // not streaming
  auto pusher = push("SNAP1", token("SNAP1", "push"));
  ASSERT_TRUE(wait_live("SNAP1")) << server_.log();
  const auto play = token("SNAP1", "play");
  EXPECT_EQ(server_.get(base + "wrong").status, 401);
  EXPECT_EQ(
      server_.get("/api/v1/devices/SNAP1/snapshot.jpg?token=" + token("OTHER", "play")).status,
      401);
  const auto first = server_.get(base + play);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.header("content-type"), "image/jpeg");
  EXPECT_EQ(first.header("cache-control"), "no-store");
  const auto second = server_.get(base + play);
  ASSERT_EQ(second.status, 200);
  if (second.header("x-snapshot-version") == first.header("x-snapshot-version")) {
    EXPECT_EQ(second.body, first.body) << "the same keyframe gives the same picture";
  }
  const auto file =
      std::filesystem::temp_directory_path() / ("nj-snap-" + std::to_string(::getpid()) + ".jpg");
  {
    std::ofstream out(file, std::ios::binary);
    out << first.body;
  }
  int status = 1;
  const auto probe = run_command(
      "ffprobe -v error -show_entries stream=codec_name,width,height "
      "-of csv=p=0 '" +
          file.string() + "' 2>&1",
      &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(probe, "mjpeg,640,360\n");
  std::filesystem::remove(file);
  const auto metrics = server_.get("/metrics").body;
  EXPECT_NE(metrics.find("nightjar_snapshots_total{outcome=\"decoded\"}"), std::string::npos);
}

// Cameras' other audio: G.711 µ-law and A-law and Opus are relayed over RTSP as they are,
// and reach browsers in the fMP4 feed as FLAC (G.711, lossless) or Opus.
TEST_F(RtspTest, G711AndOpusAreRelayedAndReachBrowsers) {
  struct Case {
    std::string encoder, serial, rtsp_codec, sample_rate, mp4_codec;
  };
  for (const auto& c : {Case{"pcm_mulaw -ar 8000 -ac 1", "PCMU1", "pcm_mulaw", "8000", "flac"},
                        Case{"pcm_alaw -ar 8000 -ac 1", "PCMA1", "pcm_alaw", "8000", "flac"},
                        Case{"libopus -ar 48000 -ac 2", "OPUS1", "opus", "48000", "opus"}}) {
    SCOPED_TRACE(c.rtsp_codec);
    BackgroundCommand pusher(
        "exec ffmpeg -loglevel error -re -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi "
        "-i sine=frequency=1000:sample_rate=48000 -t 30 -c:v libx264 -preset ultrafast -g 25 "
        "-bf 0 -pix_fmt yuv420p -c:a " +
        c.encoder + " -f rtsp -rtsp_transport tcp '" +
        url("push", c.serial, token(c.serial, "push")) + "' 2>/dev/null");
    ASSERT_TRUE(wait_live(c.serial)) << server_.log();
    const auto live = url("live", c.serial, token(c.serial, "play"));
    int status = 1;
    const auto probe = run_command(
        "ffprobe -v error -rtsp_transport tcp -select_streams a -show_entries "
        "stream=codec_name,sample_rate -of csv=p=0 '" +
            live + "' 2>&1",
        &status);
    EXPECT_EQ(probe, c.rtsp_codec + "," + c.sample_rate + "\n");
    EXPECT_EQ(run_command("ffmpeg -v error -rtsp_transport tcp -i '" + live +
                              "' -map 0 -t 2 -f null - 2>&1",
                          &status),
              "");

    WsClient ws;
    ASSERT_EQ(ws.connect(server_.http_port(),
                         "/api/v1/devices/" + c.serial + "/live?token=" + token(c.serial, "play")),
              101);
    auto hello = ws.receive(5s);
    ASSERT_TRUE(hello);
    const auto codec = nlohmann::json::parse(*hello)["codec"].get<std::string>();
    EXPECT_TRUE(codec.ends_with("," + c.mp4_codec)) << codec;
    std::string file;
    const auto until = std::chrono::steady_clock::now() + 2500ms;
    while (std::chrono::steady_clock::now() < until) {
      auto message = ws.receive(2s);
      ASSERT_TRUE(message);
      file += *message;
    }
    const auto path = std::filesystem::temp_directory_path() /
                      ("nj-audio-" + std::to_string(::getpid()) + ".mp4");
    std::ofstream(path, std::ios::binary) << file;
    EXPECT_EQ(
        run_command("ffmpeg -v error -i '" + path.string() + "' -map 0 -f null - 2>&1", &status),
        "");
    EXPECT_EQ(run_command("ffprobe -v error -select_streams a -show_entries "
                          "stream=codec_name,sample_rate -of csv=p=0 '" +
                          path.string() + "' 2>&1"),
              c.mp4_codec + "," + c.sample_rate + "\n");
    std::filesystem::remove(path);
  }
}

// H.265 with Opus, as newer cameras send: relayed over RTSP with the same codecs, size and
// rate; packaged as hvc1 (hvcC) + Opus in the fMP4 feed; a snapshot decodes it too.
TEST_F(RtspTest, H265WithOpusIsRelayedPackagedAndSnapshotted) {
  BackgroundCommand pusher(
      "exec ffmpeg -loglevel error -re -f lavfi -i testsrc2=size=640x360:rate=25 -f lavfi "
      "-i sine=frequency=1000:sample_rate=48000 -t 40 -c:v libx265 -preset ultrafast "
      "-x265-params log-level=error:keyint=25:bframes=0 -pix_fmt yuv420p -c:a libopus "
      "-f rtsp -rtsp_transport tcp '" +
      url("push", "HEVC1", token("HEVC1", "push")) + "' 2>/dev/null");
  ASSERT_TRUE(wait_live("HEVC1")) << server_.log();
  const auto live = url("live", "HEVC1", token("HEVC1", "play"));
  int status = 1;
  EXPECT_EQ(run_command("ffprobe -v error -rtsp_transport tcp -show_entries "
                        "stream=codec_name,width,height,r_frame_rate,sample_rate -of csv=p=0 '" +
                            live + "' 2>&1",
                        &status),
            "hevc,640,360,25/1\nopus,48000,0/0\n");
  EXPECT_EQ(run_command(
                "ffmpeg -v error -rtsp_transport tcp -i '" + live + "' -map 0 -t 2 -f null - 2>&1",
                &status),
            "");

  WsClient ws;
  ASSERT_EQ(
      ws.connect(server_.http_port(), "/api/v1/devices/HEVC1/live?token=" + token("HEVC1", "play")),
      101);
  auto hello = ws.receive(5s);
  ASSERT_TRUE(hello);
  EXPECT_EQ(nlohmann::json::parse(*hello)["codec"], "hvc1.1.6.L63.90,opus");
  std::string file;
  for (const auto until = std::chrono::steady_clock::now() + 2500ms;
       std::chrono::steady_clock::now() < until;) {
    auto message = ws.receive(2s);
    ASSERT_TRUE(message);
    file += *message;
  }
  const auto path =
      std::filesystem::temp_directory_path() / ("nj-hevc-" + std::to_string(::getpid()) + ".mp4");
  std::ofstream(path, std::ios::binary) << file;
  EXPECT_EQ(
      run_command("ffmpeg -v error -i '" + path.string() + "' -map 0 -f null - 2>&1", &status), "");
  EXPECT_EQ(run_command("ffprobe -v error -show_entries stream=codec_name,codec_tag_string,width "
                        "-of csv=p=0 '" +
                        path.string() + "' 2>&1"),
            "hevc,hvc1,640\nopus,Opus\n");
  std::filesystem::remove(path);

  const auto snapshot =
      server_.get("/api/v1/devices/HEVC1/snapshot.jpg?token=" + token("HEVC1", "play"));
  ASSERT_EQ(snapshot.status, 200) << snapshot.body;
  EXPECT_EQ(snapshot.header("content-type"), "image/jpeg");
}

// RTP over UDP, both ways: ffmpeg pushes with UDP, ffprobe and ffmpeg play with UDP; the
// same codecs arrive and decode without an error.
TEST_F(RtspTest, UdpTransportForPushAndPlay) {
  BackgroundCommand pusher("exec ffmpeg -loglevel error -re -stream_loop -1 -i '" + clip_.string() +
                           "' -c copy -f rtsp -rtsp_transport udp '" +
                           url("push", "UDP1", token("UDP1", "push")) + "' 2>/dev/null");
  ASSERT_TRUE(wait_live("UDP1")) << server_.log();
  const auto live = url("live", "UDP1", token("UDP1", "play"));
  int status = 1;
  EXPECT_EQ(run_command("ffprobe -v error -rtsp_transport udp -show_entries "
                        "stream=codec_name,width,height,r_frame_rate,sample_rate -of csv=p=0 '" +
                            live + "' 2>&1",
                        &status),
            "h264,640,360,25/1\naac,48000,0/0\n");
  EXPECT_EQ(run_command(
                "ffmpeg -v error -rtsp_transport udp -i '" + live + "' -map 0 -t 3 -f null - 2>&1",
                &status),
            "");
  EXPECT_EQ(status, 0);
  // GStreamer's rtspsrc over UDP too.
  const auto gst = run_command(
      "timeout 20 gst-launch-1.0 -q rtspsrc location='" + live +
          "' protocols=udp ! rtph264depay ! h264parse ! fakesink num-buffers=50 2>&1; echo rc=$?",
      &status);
  EXPECT_NE(gst.find("rc=0"), std::string::npos) << gst;
  const auto metrics = server_.get("/metrics").body;
  EXPECT_NE(metrics.find("nightjar_rtp_packets_total{outcome=\"lost\"} 0\n"), std::string::npos)
      << metrics;
}

TEST_F(RtspTest, GstreamerPushesAndPlays) {
  // GStreamer's rtspclientsink pushes (its controls look like "stream=0"); ffprobe and
  // GStreamer's rtspsrc (which resolves controls against Content-Base) play it back.
  BackgroundCommand pusher(
      "exec gst-launch-1.0 -q videotestsrc is-live=true ! "
      "video/x-raw,width=320,height=240,framerate=25/1 ! x264enc tune=zerolatency key-int-max=25 ! "
      "video/x-h264,profile=baseline ! rtspclientsink protocols=tcp location='" +
      url("push", "GST1", token("GST1", "push")) + "' >/dev/null 2>&1");
  ASSERT_TRUE(wait_live("GST1")) << server_.log();
  const auto live = url("live", "GST1", token("GST1", "play"));
  EXPECT_EQ(run_command("ffprobe -v error -rtsp_transport tcp -show_entries "
                        "stream=codec_name,width,height -of csv=p=0 '" +
                        live + "'"),
            "h264,320,240\n");
  int status = 1;
  const auto played =
      run_command("timeout 20 gst-launch-1.0 -q rtspsrc protocols=tcp location='" + live +
                      "' ! rtph264depay ! h264parse ! avdec_h264 ! fakesink "
                      "num-buffers=50 2>&1",
                  &status);
  // On failure, what the server says about its RTSP connections (why one was closed).
  auto rtsp_metrics = [&] {
    std::string lines;
    std::istringstream text(server_.get("/metrics").body);
    for (std::string line; std::getline(text, line);) {
      if (line.starts_with("nightjar_rtsp_")) lines += line + "\n";
    }
    return lines;
  };
  EXPECT_EQ(status, 0) << "rtspsrc played 50 decoded frames: " << played << "\nserver log:\n"
                       << server_.log() << "\nRTSP metrics:\n"
                       << rtsp_metrics();
  EXPECT_TRUE(pusher.running());
}

TEST_F(RtspTest, MalformedRtspGetsAnErrorAndTheServerCarriesOn) {
  RawConnection raw(server_.rtsp_port());
  ASSERT_TRUE(raw.send("NOT RTSP AT ALL\r\n\r\n"));
  const auto reply = raw.read_all(2s);
  EXPECT_TRUE(reply.starts_with("RTSP/1.0 400")) << reply;
  RawConnection options(server_.rtsp_port());
  ASSERT_TRUE(options.send("OPTIONS rtsp://127.0.0.1/ RTSP/1.0\r\nCSeq: 1\r\n\r\n"));
  const auto ok = options.read_all(500ms);
  EXPECT_TRUE(ok.starts_with("RTSP/1.0 200 OK")) << ok;
  EXPECT_NE(ok.find("ANNOUNCE"), std::string::npos);

  // An interleaved frame larger than the first read buffer (8 KiB) is taken whole; one
  // longer than the largest message taken (64 KiB) ends its connection, and is counted.
  RawConnection big(server_.rtsp_port());
  std::string frame = "$";
  frame += static_cast<char>(0);
  frame += static_cast<char>(0x50);  // 20 KiB
  frame += static_cast<char>(0x00);
  frame += std::string(0x5000, 'a');
  ASSERT_TRUE(big.send(frame + "OPTIONS rtsp://127.0.0.1/ RTSP/1.0\r\nCSeq: 1\r\n\r\n"));
  const auto answered = big.read_all(500ms);
  EXPECT_TRUE(answered.starts_with("RTSP/1.0 200 OK")) << answered.substr(0, 200);
  RawConnection huge(server_.rtsp_port());
  frame = "$";
  frame += static_cast<char>(0);
  frame += static_cast<char>(0xff);
  frame += static_cast<char>(0xff);
  huge.send(frame + std::string(0xffff, 'a'));
  EXPECT_EQ(huge.read_all(2s), "") << "closed without an answer";
  const auto metrics = server_.get("/metrics").body;
  EXPECT_NE(metrics.find("nightjar_rtsp_protocol_errors_total{error=\"message_too_large\"} 1"),
            std::string::npos)
      << metrics;
}

}  // namespace
}  // namespace nj::testing
