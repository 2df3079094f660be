// The pusher's backlog (issue #17): a camera whose server is gone keeps what that server
// never got and sends it to the next one, on backlog/{serial}, while its live stream starts
// there at its latest keyframe. Two in-process RTSP servers stand for two nodes; one stops
// taking the camera (its session cut, every new one refused), the other is asked next.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "media/hub/hub.h"
#include "media/rtsp/client_io.h"
#include "media/rtsp/server.h"
#include "metrics/registry.h"
#include "net/io_pool.h"

namespace nj::media::rtsp {
namespace {

using namespace std::chrono_literals;

constexpr int kFps = 25, kGop = 25;  // a keyframe a second

const std::vector<uint8_t> kSps = {0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f,
                                   0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00,
                                   0x00, 0x03, 0x00, 0x32, 0x0f, 0x16, 0x2d, 0x96};
const std::vector<uint8_t> kPps = {0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0};

int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Frame i: an IDR every kGop frames, its number in the slice's first bytes.
hub::FramePtr frame(int i, int64_t wall0) {
  auto f = std::make_shared<hub::Frame>();
  f->track = hub::TrackKind::kVideo;
  f->keyframe = i % kGop == 0;
  f->timestamp = int64_t{i} * (90'000 / kFps);
  f->capture_us = wall0 + int64_t{i} * (1'000'000 / kFps);
  f->received_at_us = steady_now_us();
  const size_t nal = f->keyframe ? 4000 : 800;
  f->data = {static_cast<uint8_t>(nal >> 24), static_cast<uint8_t>(nal >> 16),
             static_cast<uint8_t>(nal >> 8), static_cast<uint8_t>(nal)};
  f->data.push_back(f->keyframe ? 0x65 : 0x41);
  for (int shift = 24; shift >= 0; shift -= 8) f->data.push_back(static_cast<uint8_t>(i >> shift));
  f->data.resize(4 + nal, 0x5a);
  return f;
}

int number_of(const hub::Frame& f) {
  if (f.data.size() < 9) return -1;
  return f.data[5] << 24 | f.data[6] << 16 | f.data[7] << 8 | f.data[8];
}

class Switchable final : public Authorizer {
 public:
  std::unique_ptr<AccessGrant> allow(std::string_view, Purpose purpose, std::string_view token,
                                     std::function<void()>) override {
    if (refuse || purpose != Purpose::kPush || token != "t") return nullptr;
    return std::make_unique<AccessGrant>();
  }
  std::atomic<bool> refuse{false};
};

// A node: an RTSP server on its own hub that keeps every frame published on it, by path.
struct Node {
  Node(net::IoPool& pool)
      : hub({}, {.published =
                     [this](const std::string& path) {
                       auto sub = hub.subscribe(path, {}, hub::Packaging::kNone,
                                                hub::QueueLimits{100'000, 1ull << 30});
                       if (!sub) return;
                       std::lock_guard lock(mu);
                       subscriptions.emplace_back(path, std::move(*sub));
                     },
                 .gone = {},
                 .subscribers_changed = {}}),
        server(pool, hub, auth, metrics) {
    port = server.listen("127.0.0.1", 0).value();
  }
  ~Node() {
    server.stop();
    std::lock_guard lock(mu);
    subscriptions.clear();
  }
  std::string url(const std::string& kind) const {
    return "rtsp://127.0.0.1:" + std::to_string(port) + "/" + kind + "/CAM?token=t";
  }
  // Every frame received on the path so far (over all its publications).
  std::vector<hub::FramePtr> received(const std::string& path) {
    std::lock_guard lock(mu);
    for (auto& [p, sub] : subscriptions) sub->queue().drain(kept[p]);
    return kept[path];
  }
  bool streaming(const std::string& path) const { return hub.is_published(path); }

  metrics::Registry metrics;
  Switchable auth;
  std::mutex mu;
  std::vector<std::pair<std::string, std::unique_ptr<hub::Subscription>>> subscriptions;
  std::map<std::string, std::vector<hub::FramePtr>> kept;
  hub::Hub hub;
  Server server;
  uint16_t port = 0;
};

// The camera: frames into its own hub at kFps, numbered from 0.
struct Camera {
  explicit Camera(hub::Hub& hub) {
    hub::StreamInfo info;
    info.video_codec = "H264";
    info.sps = kSps;
    info.pps = kPps;
    info.width = 1280;
    info.height = 720;
    publisher = std::move(hub.publish("cam", info).value());
    thread = std::thread([this] {
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; !stop; ++i) {
        std::this_thread::sleep_until(start + i * std::chrono::microseconds(1'000'000 / kFps));
        publisher->publish(frame(i, wall0));
        sent = i;
      }
    });
  }
  ~Camera() {
    stop = true;
    thread.join();
  }
  const int64_t wall0 = wall_us();
  std::unique_ptr<hub::Publisher> publisher;
  std::atomic<bool> stop{false};
  std::atomic<int> sent{-1};
  std::thread thread;
};

template <typename Pred>
bool wait_for(Pred pred, std::chrono::milliseconds timeout) {
  for (auto end = std::chrono::steady_clock::now() + timeout;
       std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(10ms)) {
    if (pred()) return true;
  }
  return pred();
}

std::vector<int> numbers(const std::vector<hub::FramePtr>& frames) {
  std::vector<int> out;
  for (const auto& f : frames) out.push_back(number_of(*f));
  return out;
}

// Whether the numbers run from their first to their last without a hole or a repeat.
bool contiguous(const std::vector<int>& n) {
  for (size_t i = 1; i < n.size(); ++i) {
    if (n[i] != n[i - 1] + 1) return false;
  }
  return true;
}

std::string show(const std::vector<int>& n) {
  if (n.empty()) return "[]";
  return "[" + std::to_string(n.front()) + " … " + std::to_string(n.back()) + "] (" +
         std::to_string(n.size()) + ")";
}

class PusherBacklog : public ::testing::Test {
 protected:
  void SetUp() override {
    pool.start();
    camera = std::make_unique<Camera>(local);
    a = std::make_unique<Node>(pool);
    b = std::make_unique<Node>(pool);
  }
  // The pusher first (while the loops run), then the servers' sessions with the loops.
  void TearDown() override {
    pusher.reset();
    a->server.stop();
    b->server.stop();
    pool.shutdown();
  }
  void start(std::chrono::seconds backlog) {
    PushOptions options;
    options.url = a->url("push");
    options.path = "cam";
    options.backoff = {.initial = 100ms, .max = 400ms};
    options.backlog.max_age = backlog;
    pusher = std::make_unique<Pusher>(pool, local, options);
  }
  // Node A is lost: its session cut, and every new one refused.
  void lose_a() {
    a->auth.refuse = true;
    ASSERT_TRUE(a->hub.evict("push/CAM"));
  }

  net::IoPool pool{2};
  hub::Hub local;
  std::unique_ptr<Camera> camera;
  std::unique_ptr<Node> a, b;
  std::unique_ptr<Pusher> pusher;
};

TEST_F(PusherBacklog, WhatTheLostServerNeverGotGoesToTheNextOneAndLiveStartsWhereItEnds) {
  start(20s);
  ASSERT_TRUE(wait_for([&] { return a->received("push/CAM").size() >= 40; }, 10s))
      << pusher->status().last_error;
  lose_a();  // for three GOPs
  std::this_thread::sleep_for(3s);
  EXPECT_FALSE(pusher->status().streaming);
  // Node B asks for the stream.
  pusher->retarget(b->url("push"));
  ASSERT_TRUE(wait_for(
      [&] {
        return pusher->status().backlogs_sent == 1 && !b->streaming("backlog/CAM") &&
               b->received("push/CAM").size() >= 25;
      },
      10s))
      << pusher->status().last_error;
  camera->stop = true;

  const auto on_a = numbers(a->received("push/CAM"));
  const auto backlog_frames = b->received("backlog/CAM");
  const auto live_frames = b->received("push/CAM");
  const auto backlog = numbers(backlog_frames);
  const auto live = numbers(live_frames);
  ASSERT_FALSE(on_a.empty());
  ASSERT_FALSE(backlog.empty());
  ASSERT_FALSE(live.empty());
  EXPECT_EQ(on_a.front(), 0);
  EXPECT_TRUE(contiguous(on_a)) << show(on_a);
  EXPECT_TRUE(contiguous(backlog)) << show(backlog);
  EXPECT_TRUE(contiguous(live)) << show(live);
  // The backlog starts at the keyframe of the GOP A had in flight: it may repeat what A
  // had of that GOP (A never recorded it whole), and misses nothing after it.
  EXPECT_EQ(backlog.front() % kGop, 0) << show(backlog);
  EXPECT_LE(backlog.front(), on_a.back() + 1) << show(on_a) << " then " << show(backlog);
  EXPECT_GT(backlog.front() + kGop, on_a.back()) << show(on_a) << " then " << show(backlog);
  // Live on B starts at a keyframe, right where the backlog ends: no hole, no frame twice.
  EXPECT_EQ(live.front() % kGop, 0) << show(live);
  EXPECT_EQ(live.front(), backlog.back() + 1) << show(backlog) << " then " << show(live);
  // Three seconds without a server: all of it is in the backlog.
  EXPECT_GE(backlog.size(), 3u * kFps) << show(backlog);
  // B knows when each frame was captured (from the sender reports), sent late as it was.
  for (const auto* frames : {&backlog_frames, &live_frames}) {
    for (const auto& f : *frames) {
      const int64_t captured = camera->wall0 + int64_t{number_of(*f)} * (1'000'000 / kFps);
      ASSERT_NEAR(static_cast<double>(f->capture_us), static_cast<double>(captured), 1000.0)
          << "frame " << number_of(*f);
    }
  }
  const auto status = pusher->status();
  EXPECT_EQ(status.backlog_lost, 0u);
  EXPECT_EQ(status.backlog_dropped, 0u);
  EXPECT_EQ(status.backlog_frames, backlog.size());
}

TEST_F(PusherBacklog, KeepsNoMoreThanItsBoundInWholeGops) {
  start(2s);
  ASSERT_TRUE(wait_for([&] { return a->received("push/CAM").size() >= 10; }, 10s))
      << pusher->status().last_error;
  lose_a();
  std::this_thread::sleep_for(5s);
  pusher->retarget(b->url("push"));
  ASSERT_TRUE(wait_for(
      [&] {
        return pusher->status().backlogs_sent == 1 && !b->streaming("backlog/CAM") &&
               !b->received("push/CAM").empty();
      },
      10s))
      << pusher->status().last_error;
  const auto backlog = numbers(b->received("backlog/CAM"));
  const auto live = numbers(b->received("push/CAM"));
  ASSERT_FALSE(backlog.empty());
  EXPECT_GT(pusher->status().backlog_dropped, 0u);
  EXPECT_EQ(backlog.front() % kGop, 0) << show(backlog);
  EXPECT_LE(backlog.size(), 2u * kGop) << show(backlog);  // 2 s, live's GOP aside
  EXPECT_GE(backlog.front(), 2 * kGop) << show(backlog);  // the oldest went
  EXPECT_TRUE(contiguous(backlog)) << show(backlog);
  EXPECT_EQ(live.front(), backlog.back() + 1) << show(backlog) << " then " << show(live);
}

// The node holding the camera asks again with a fresh token: the connection in hand stays
// (a reconnection would cut the stream, and the recording, for nothing).
TEST_F(PusherBacklog, TheSameServerAskingAgainKeepsTheConnection) {
  start(20s);
  ASSERT_TRUE(wait_for([&] { return a->received("push/CAM").size() >= 10; }, 10s));
  const auto attempts = pusher->status().attempts;
  for (int i = 0; i < 5; ++i) {
    pusher->retarget(a->url("push") + "&again=" + std::to_string(i));
    std::this_thread::sleep_for(50ms);
  }
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(pusher->status().attempts, attempts);
  EXPECT_TRUE(pusher->status().streaming);
  const auto on_a = numbers(a->received("push/CAM"));
  EXPECT_TRUE(contiguous(on_a)) << show(on_a);
  EXPECT_EQ(on_a.front(), 0);
}

// A planned move (a node came back, say): the new server is reached while the old one still
// gets the stream, and the stream moves at a keyframe. Every frame is on exactly one of them,
// in order: neither records the GOP in flight twice, and nothing is missing between them.
TEST_F(PusherBacklog, AMoveIsMadeBeforeTheOldConnectionBreaksAndCutsAtAKeyframe) {
  start(20s);
  ASSERT_TRUE(wait_for([&] { return a->received("push/CAM").size() >= 15; }, 10s))
      << pusher->status().last_error;
  pusher->retarget(b->url("push"));
  ASSERT_TRUE(wait_for(
      [&] { return !a->streaming("push/CAM") && b->received("push/CAM").size() >= 15; }, 10s))
      << pusher->status().last_error;
  camera->stop = true;
  const auto on_a = numbers(a->received("push/CAM"));
  const auto on_b = numbers(b->received("push/CAM"));
  ASSERT_FALSE(on_a.empty());
  ASSERT_FALSE(on_b.empty());
  EXPECT_EQ(on_a.front(), 0);
  EXPECT_TRUE(contiguous(on_a)) << show(on_a);
  EXPECT_TRUE(contiguous(on_b)) << show(on_b);
  EXPECT_EQ(on_b.front() % kGop, 0) << show(on_b);
  EXPECT_EQ(on_b.front(), on_a.back() + 1) << show(on_a) << " then " << show(on_b);
  const auto status = pusher->status();
  EXPECT_EQ(status.moves, 1u);
  EXPECT_EQ(status.backlogs_sent, 0u) << "nothing was held back";
  EXPECT_TRUE(b->received("backlog/CAM").empty());
}

// The server moved to cannot be reached: the old connection ends, and what the old server
// did not get reaches the new one as a backlog once it answers, as after any break.
TEST_F(PusherBacklog, AMoveToAServerThatRefusesFallsBackToTheBacklog) {
  start(20s);
  ASSERT_TRUE(wait_for([&] { return a->received("push/CAM").size() >= 15; }, 10s))
      << pusher->status().last_error;
  b->auth.refuse = true;
  pusher->retarget(b->url("push"));
  ASSERT_TRUE(wait_for([&] { return !a->streaming("push/CAM"); }, 10s));
  std::this_thread::sleep_for(1500ms);
  b->auth.refuse = false;
  ASSERT_TRUE(wait_for(
      [&] {
        return pusher->status().backlogs_sent == 1 && !b->streaming("backlog/CAM") &&
               b->received("push/CAM").size() >= 15;
      },
      10s))
      << pusher->status().last_error;
  camera->stop = true;
  const auto on_a = numbers(a->received("push/CAM"));
  const auto backlog = numbers(b->received("backlog/CAM"));
  const auto live = numbers(b->received("push/CAM"));
  ASSERT_FALSE(backlog.empty());
  ASSERT_FALSE(live.empty());
  EXPECT_TRUE(contiguous(on_a)) << show(on_a);
  EXPECT_LE(backlog.front(), on_a.back() + 1) << show(on_a) << " then " << show(backlog);
  EXPECT_TRUE(contiguous(backlog)) << show(backlog);
  EXPECT_EQ(live.front(), backlog.back() + 1) << show(backlog) << " then " << show(live);
  EXPECT_EQ(pusher->status().moves, 0u);
}

// Without a backlog, a new server gets the live stream from the latest keyframe only (as
// before), and nothing is sent to backlog/.
TEST_F(PusherBacklog, NoneIsKeptUnlessAsked) {
  start(0s);
  ASSERT_TRUE(wait_for([&] { return a->received("push/CAM").size() >= 10; }, 10s));
  lose_a();
  std::this_thread::sleep_for(2500ms);
  pusher->retarget(b->url("push"));
  ASSERT_TRUE(wait_for([&] { return b->received("push/CAM").size() >= 5; }, 10s));
  const auto live = numbers(b->received("push/CAM"));
  EXPECT_TRUE(b->received("backlog/CAM").empty());
  EXPECT_EQ(live.front() % kGop, 0);
  EXPECT_GE(live.front(), 2 * kGop) << show(live);  // the break's GOPs are not there
  EXPECT_EQ(pusher->status().backlogs_sent, 0u);
}

}  // namespace
}  // namespace nj::media::rtsp
