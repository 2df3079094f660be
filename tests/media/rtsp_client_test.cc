// Our RTSP client against real servers on loopback, over TCP and UDP: it pulls from
// GStreamer's gst-rtsp-server behind Digest authentication, refuses a wrong password clearly,
// pushes what it pulled into a real `nightjar serve` (checked with ffprobe), and reconnects to a
// camera that went away and came back.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "integration/fixture.h"
#include "media/hub/hub.h"
#include "media/rtsp/client_io.h"
#include "net/io_pool.h"

namespace nj::testing {
namespace {

using namespace std::chrono_literals;
namespace rtsp = media::rtsp;
namespace hub = media::hub;

// gst-rtsp-server in the background; its port comes on its standard output.
class GstServer {
 public:
  GstServer(const std::string& user, const std::string& password) {
    out_ = std::filesystem::temp_directory_path() /
           ("nj-gst-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++) + ".out");
    command_ = std::make_unique<BackgroundCommand>("exec '" + std::string(NJ_GST_SERVER) + "' '" +
                                                   user + "' '" + password + "' > '" +
                                                   out_.string() + "' 2>/dev/null");
    for (int i = 0; i < 100 && port_ == 0; ++i) {
      std::ifstream in(out_);
      std::string word;
      int port = 0;
      if (in >> word >> port && word == "PORT") port_ = static_cast<uint16_t>(port);
      if (port_ == 0) std::this_thread::sleep_for(50ms);
    }
  }
  ~GstServer() {
    command_.reset();
    std::filesystem::remove(out_);
  }
  uint16_t port() const { return port_; }

 private:
  static inline int counter_ = 0;
  std::filesystem::path out_;
  std::unique_ptr<BackgroundCommand> command_;
  uint16_t port_ = 0;
};

template <typename Pred>
bool wait_for(Pred pred, std::chrono::milliseconds timeout) {
  for (auto end = std::chrono::steady_clock::now() + timeout;
       std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(20ms)) {
    if (pred()) return true;
  }
  return pred();
}

rtsp::LinkOptions over(bool udp) {
  rtsp::LinkOptions options;
  options.udp = udp;
  return options;
}

void pull_from_gst_with_digest(bool udp) {
  GstServer camera("admin", "s3cret pass");
  ASSERT_NE(camera.port(), 0);
  net::IoPool pool(1);
  pool.start();
  hub::Hub hub;
  {
    rtsp::Puller puller(
        pool, hub,
        {.url = "rtsp://admin:s3cret%20pass@127.0.0.1:" + std::to_string(camera.port()) + "/cam",
         .path = "push/GST1",
         .backoff = {},
         .link = over(udp)});
    ASSERT_TRUE(wait_for([&] { return hub.is_published("push/GST1"); }, 10s))
        << puller.status().last_error;
    auto sub = hub.subscribe("push/GST1", {});
    ASSERT_TRUE(sub);
    std::vector<hub::FramePtr> frames;
    ASSERT_TRUE(wait_for(
        [&] {
          (*sub)->queue().drain(frames);
          return std::count_if(frames.begin(), frames.end(),
                               [](auto& f) { return f->track == hub::TrackKind::kVideo; }) >= 50;
        },
        10s));
    const auto& info = (*sub)->info();
    EXPECT_EQ(info.video_codec, "H264");
    EXPECT_EQ(info.width, 320u);
    EXPECT_EQ(info.height, 240u);
    EXPECT_EQ(info.audio_codec, "AAC");
    EXPECT_EQ(info.audio_sample_rate, 48000u);
    // Video in order at 25 fps (3,600 ticks of 90 kHz), starting at a keyframe; audio too.
    int64_t last = -1;
    size_t video = 0, audio = 0;
    for (const auto& f : frames) {
      if (f->track == hub::TrackKind::kAudio) {
        ++audio;
        continue;
      }
      if (video++ == 0) {
        EXPECT_TRUE(f->keyframe);
      }
      if (last >= 0) {
        EXPECT_EQ(f->timestamp - last, 3600);
      }
      last = f->timestamp;
    }
    EXPECT_GT(audio, 50u);
    EXPECT_TRUE(puller.status().streaming);
    EXPECT_EQ(puller.status().udp, udp);
    EXPECT_EQ(puller.status().attempts, 1u);
  }
  EXPECT_FALSE(hub.is_published("push/GST1"));  // the puller's end unpublishes
  pool.shutdown();
}

TEST(RtspClient, PullsFromGstRtspServerWithDigest) { pull_from_gst_with_digest(false); }

TEST(RtspClient, PullsFromGstRtspServerOverUdp) { pull_from_gst_with_digest(true); }

TEST(RtspClient, WrongPasswordIsAClearErrorAndNothingIsPublished) {
  GstServer camera("admin", "right");
  ASSERT_NE(camera.port(), 0);
  net::IoPool pool(1);
  pool.start();
  hub::Hub hub;
  {
    rtsp::Puller puller(
        pool, hub,
        {.url = "rtsp://admin:wrong@127.0.0.1:" + std::to_string(camera.port()) + "/cam",
         .path = "push/GST2",
         .backoff = {.initial = 200ms, .max = 400ms},
         .link = {}});
    ASSERT_TRUE(wait_for([&] { return puller.status().attempts >= 2; }, 5s));
    EXPECT_NE(puller.status().last_error.find("401"), std::string::npos)
        << puller.status().last_error;
    EXPECT_FALSE(hub.is_published("push/GST2"));
  }
  pool.shutdown();
}

void push_what_it_pulls_into_nightjar(bool udp) {
  GstServer camera("u", "p");
  ASSERT_NE(camera.port(), 0);
  ServerProcess server;
  ASSERT_TRUE(server.start()) << server.log();
  auto token = [&](const std::string& purpose) {
    auto t = server.admin("stream-token --serial GW1 --purpose " + purpose);
    while (!t.empty() && t.back() == '\n') t.pop_back();
    return t;
  };
  const std::string base = "rtsp://127.0.0.1:" + std::to_string(server.rtsp_port());
  net::IoPool pool(2);
  pool.start();
  hub::Hub local;  // the gateway's own hub, as the device agent will have
  {
    rtsp::Puller puller(pool, local,
                        {.url = "rtsp://u:p@127.0.0.1:" + std::to_string(camera.port()) + "/cam",
                         .path = "push/GW1",
                         .backoff = {},
                         .link = over(udp)});
    rtsp::Pusher pusher(pool, local,
                        {.url = base + "/push/GW1?token=" + token("push"),
                         .path = "push/GW1",
                         .backoff = {.initial = 200ms, .max = 1000ms},
                         .link = over(udp),
                         .backlog = {}});
    ASSERT_TRUE(wait_for([&] { return pusher.status().streaming; }, 15s))
        << pusher.status().last_error;
    const std::string live = base + "/live/GW1?token=" + token("play");
    int status = 1;
    const auto probe = run_command(
        "ffprobe -v error -rtsp_transport tcp -show_entries "
        "stream=codec_name,width,height,r_frame_rate,sample_rate -of compact '" +
            live + "' 2>&1",
        &status);
    EXPECT_EQ(status, 0) << probe;
    EXPECT_NE(probe.find("codec_name=h264|width=320|height=240"), std::string::npos) << probe;
    EXPECT_NE(probe.find("r_frame_rate=25/1"), std::string::npos) << probe;
    EXPECT_NE(probe.find("codec_name=aac"), std::string::npos) << probe;
    EXPECT_NE(probe.find("sample_rate=48000"), std::string::npos) << probe;
    // Decoding 2 s of it gives no error.
    const auto decode = run_command(
        "ffmpeg -v error -rtsp_transport tcp -i '" + live + "' -t 2 -f null - 2>&1", &status);
    EXPECT_EQ(status, 0);
    EXPECT_EQ(decode, "");
    EXPECT_EQ(puller.status().udp, udp);
    EXPECT_EQ(pusher.status().udp, udp);
    if (udp) {
      // And a player over UDP decodes what came in over UDP.
      const auto udp_decode = run_command(
          "ffmpeg -v error -rtsp_transport udp -i '" + live + "' -t 2 -f null - 2>&1", &status);
      EXPECT_EQ(status, 0);
      EXPECT_EQ(udp_decode, "");
    }
  }
  pool.shutdown();
}

TEST(RtspClient, PushesWhatItPullsIntoNightjar) { push_what_it_pulls_into_nightjar(false); }

TEST(RtspClient, PullsAndPushesOverUdp) { push_what_it_pulls_into_nightjar(true); }

// A camera that goes away and comes back: the puller retries with backoff and resumes.
TEST(RtspClient, ReconnectsWhenTheCameraComesBack) {
  const auto clip = std::filesystem::temp_directory_path() /
                    ("nj-client-clip-" + std::to_string(::getpid()) + ".mp4");
  int status = 1;
  run_command(
      "ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=320x240:rate=25 -t 4 "
      "-c:v libx264 -pix_fmt yuv420p -g 25 -bf 0 '" +
          clip.string() + "' 2>&1",
      &status);
  ASSERT_EQ(status, 0);
  ServerProcess server;
  ASSERT_TRUE(server.start()) << server.log();
  auto token = [&](const std::string& purpose) {
    auto t = server.admin("stream-token --serial CAM5 --purpose " + purpose);
    while (!t.empty() && t.back() == '\n') t.pop_back();
    return t;
  };
  const std::string base = "rtsp://127.0.0.1:" + std::to_string(server.rtsp_port());
  const std::string push_url = base + "/push/CAM5?token=" + token("push");
  auto start_camera = [&] {
    return std::make_unique<BackgroundCommand>(
        "exec ffmpeg -loglevel error -re -stream_loop -1 -i '" + clip.string() +
        "' -c copy -f rtsp -rtsp_transport tcp '" + push_url + "' 2>/dev/null");
  };
  net::IoPool pool(1);
  pool.start();
  hub::Hub hub;
  {
    rtsp::Puller puller(pool, hub,
                        {.url = base + "/live/CAM5?token=" + token("play"),
                         .path = "push/CAM5",
                         .backoff = {.initial = 100ms, .max = 400ms},
                         .link = {}});
    // Nothing is pushed yet: DESCRIBE says 404, and the puller keeps trying.
    ASSERT_TRUE(wait_for([&] { return puller.status().attempts >= 3; }, 5s));
    EXPECT_NE(puller.status().last_error.find("404"), std::string::npos)
        << puller.status().last_error;
    auto camera = start_camera();
    ASSERT_TRUE(wait_for([&] { return puller.status().streaming; }, 10s))
        << puller.status().last_error;
    ASSERT_TRUE(wait_for([&] { return puller.status().frames > 25; }, 5s));
    camera.reset();  // the camera goes away: the server ends the session at once
    ASSERT_TRUE(wait_for([&] { return !puller.status().streaming; }, 3s));
    EXPECT_FALSE(hub.is_published("push/CAM5"));
    const auto frames = puller.status().frames;
    camera = start_camera();
    ASSERT_TRUE(wait_for([&] { return puller.status().frames > frames + 25; }, 10s))
        << puller.status().last_error;
    EXPECT_TRUE(hub.is_published("push/CAM5"));
  }
  pool.shutdown();
  std::filesystem::remove(clip);
}

}  // namespace
}  // namespace nj::testing
