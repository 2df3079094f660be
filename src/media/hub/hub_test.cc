#include "media/hub/hub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace nj::media::hub {
namespace {

FramePtr frame(int64_t ts, bool key, size_t size = 100) {
  auto f = std::make_shared<Frame>();
  f->timestamp = ts;
  f->keyframe = key;
  f->data.assign(size, static_cast<uint8_t>(ts));
  return f;
}

std::vector<int64_t> timestamps(SubscriberQueue& q) {
  std::vector<FramePtr> frames;
  q.drain(frames);
  std::vector<int64_t> out;
  for (const auto& f : frames) out.push_back(f->timestamp);
  return out;
}

// Counts how often it packages, and numbers what it makes.
struct CountingPackager final : Packager {
  struct Made final : Packaged {
    explicit Made(int n) : number(n) {}
    int number;
  };
  explicit CountingPackager(std::atomic<int>& c) : count(c) {}
  std::shared_ptr<const Packaged> package(const Frame&, const StreamInfo&) override {
    return std::make_shared<Made>(++count);
  }
  std::atomic<int>& count;
};

TEST(Hub, PackagesEachFrameOnceAndOnlyWhileSomeoneWantsIt) {
  Hub hub;
  std::atomic<int> packaged{0}, packagers{0};
  hub.set_packager_factory(Packaging::kLiveFmp4, [&] {
    ++packagers;
    return std::make_unique<CountingPackager>(packaged);
  });
  auto pub = std::move(hub.publish("push/P", {})).value();
  pub->publish(frame(1, true));
  pub->publish(frame(2, false));
  auto plain = std::move(hub.subscribe("push/P", {})).value();
  pub->publish(frame(3, false));
  EXPECT_EQ(packaged, 0) << "nobody asked for packaged frames yet";

  // The first packaged subscriber: the cached GOP (1, 2, 3) is packaged for it.
  auto a = std::move(hub.subscribe("push/P", {}, Packaging::kLiveFmp4)).value();
  auto b = std::move(hub.subscribe("push/P", {}, Packaging::kLiveFmp4)).value();
  EXPECT_EQ(packaged, 3);
  pub->publish(frame(4, false));
  EXPECT_EQ(packaged, 4) << "once per frame, not once per subscriber";
  std::vector<FramePtr> fa, fb;
  a->queue().drain(fa);
  b->queue().drain(fb);
  ASSERT_EQ(fa.size(), 4u);
  ASSERT_EQ(fb.size(), 4u);
  for (size_t i = 0; i < fa.size(); ++i) {
    ASSERT_TRUE(fa[i]->packaged(Packaging::kLiveFmp4));
    EXPECT_EQ(fa[i]->packaged(Packaging::kLiveFmp4), fb[i]->packaged(Packaging::kLiveFmp4))
        << "shared, not copied";
    EXPECT_FALSE(fa[i]->packaged(Packaging::kRtp)) << "only the form asked for";
  }

  a.reset();
  b.reset();
  pub->publish(frame(5, false));
  EXPECT_EQ(packaged, 4) << "the packager stops with its last subscriber";
  EXPECT_EQ(packagers, 1);
  Hub bare;  // without a factory, packaged subscriptions are refused
  auto bare_pub = std::move(bare.publish("push/Q", {})).value();
  EXPECT_FALSE(bare.subscribe("push/Q", {}, Packaging::kLiveFmp4));
  EXPECT_FALSE(hub.subscribe("push/P", {}, Packaging::kRtp)) << "no RTP packager was set";
}

TEST(Hub, LateSubscriberStartsAtTheCachedKeyframe) {
  Hub hub;
  auto pub = std::move(hub.publish("push/A", {})).value();
  pub->publish(frame(0, false));  // before any keyframe: not cached
  pub->publish(frame(1, true));
  pub->publish(frame(2, false));
  pub->publish(frame(3, false));
  auto sub = std::move(hub.subscribe("push/A", {})).value();
  EXPECT_EQ(timestamps(sub->queue()), (std::vector<int64_t>{1, 2, 3}));
  pub->publish(frame(4, false));
  pub->publish(frame(5, true));
  EXPECT_EQ(timestamps(sub->queue()), (std::vector<int64_t>{4, 5}));
  auto late = std::move(hub.subscribe("push/A", {})).value();
  EXPECT_EQ(timestamps(late->queue()), (std::vector<int64_t>{5})) << "the cache restarts";
}

TEST(Hub, FramesAreSharedNotCopied) {
  Hub hub;
  auto pub = std::move(hub.publish("p", {})).value();
  auto a = std::move(hub.subscribe("p", {})).value();
  auto b = std::move(hub.subscribe("p", {})).value();
  pub->publish(frame(1, true));
  std::vector<FramePtr> fa, fb;
  a->queue().drain(fa);
  b->queue().drain(fb);
  ASSERT_EQ(fa.size(), 1u);
  ASSERT_EQ(fb.size(), 1u);
  EXPECT_EQ(fa[0].get(), fb[0].get());
}

TEST(Hub, SlowSubscriberSkipsToTheNextKeyframeWithoutHoldingOthers) {
  HubLimits limits;
  limits.queue = {.max_frames = 10, .max_bytes = 1 << 20};
  Hub hub(limits);
  auto pub = std::move(hub.publish("p", {})).value();
  auto fast = std::move(hub.subscribe("p", {})).value();
  auto slow = std::move(hub.subscribe("p", {})).value();
  std::vector<int64_t> got;
  for (int i = 0; i < 35; ++i) {
    pub->publish(frame(i, i % 10 == 0));
    for (auto t : timestamps(fast->queue())) got.push_back(t);
  }
  EXPECT_EQ(got.size(), 35u) << "the fast subscriber got everything";
  const auto behind = timestamps(slow->queue());
  ASSERT_FALSE(behind.empty());
  EXPECT_EQ(behind.front() % 10, 0) << "the slow one resumes at a keyframe";
  EXPECT_EQ(behind.back(), 34);
  EXPECT_GT(slow->queue().skips(), 0u);
  EXPECT_GT(slow->queue().dropped_frames(), 0u);
}

TEST(Hub, OnePublisherPerPathAndCleanEnd) {
  std::vector<std::string> log;
  Events events;
  events.published = [&](const std::string& p) { log.push_back("published " + p); };
  events.gone = [&](const std::string& p) { log.push_back("gone " + p); };
  events.subscribers_changed = [&](const std::string& p, size_t n) {
    log.push_back(p + " " + std::to_string(n));
  };
  Hub hub({}, events);
  EXPECT_EQ(hub.subscribe("p", {}).error(), Error::kNotFound);
  auto pub = std::move(hub.publish("p", {})).value();
  EXPECT_EQ(hub.publish("p", {}).error(), Error::kAlreadyPublished);
  auto sub = std::move(hub.subscribe("p", {})).value();
  EXPECT_EQ(hub.subscriber_count("p"), 1u);
  pub.reset();
  EXPECT_FALSE(hub.is_published("p"));
  sub.reset();  // outliving its stream is fine
  EXPECT_TRUE(hub.publish("p", {})) << "the path is free again";
  EXPECT_EQ(log, (std::vector<std::string>{"published p", "p 1", "gone p", "p 0", "published p",
                                           "gone p"}));
}

TEST(Hub, WakeOnlyWhenTheQueueStopsBeingEmpty) {
  Hub hub;
  auto pub = std::move(hub.publish("p", {})).value();
  int wakes = 0;
  auto sub = std::move(hub.subscribe("p", [&] { ++wakes; })).value();
  pub->publish(frame(1, true));
  pub->publish(frame(2, false));
  EXPECT_EQ(wakes, 1);
  timestamps(sub->queue());
  pub->publish(frame(3, false));
  EXPECT_EQ(wakes, 2);
}

TEST(Hub, GopCacheIsBounded) {
  HubLimits limits;
  limits.gop_cache_max_bytes = 1000;
  Hub hub(limits);
  auto pub = std::move(hub.publish("p", {})).value();
  pub->publish(frame(1, true, 600));
  pub->publish(frame(2, false, 600));  // over the limit: caching stops until a keyframe
  auto sub = std::move(hub.subscribe("p", {})).value();
  EXPECT_TRUE(timestamps(sub->queue()).empty());
  pub->publish(frame(3, true, 100));
  EXPECT_EQ(timestamps(sub->queue()), (std::vector<int64_t>{3}));
}

TEST(Hub, ConcurrentPublishSubscribeAndDrain) {
  HubLimits limits;
  limits.queue = {.max_frames = 64, .max_bytes = 1 << 20};
  Hub hub(limits);
  auto pub = std::move(hub.publish("p", {})).value();
  std::atomic<bool> done{false};
  std::vector<std::thread> viewers;
  std::atomic<int> ordered{0}, started{0};
  for (int v = 0; v < 8; ++v) {
    viewers.emplace_back([&, v] {
      // Viewers come and go while the stream runs.
      bool first = true;
      while (!done.load()) {
        auto sub = hub.subscribe("p", {});
        if (!sub) continue;
        if (first) ++started;
        first = false;
        int64_t last = -1;
        bool in_order = true;
        for (int round = 0; round < 50 + v * 10 && !done.load(); ++round) {
          std::vector<FramePtr> frames;
          (*sub)->queue().drain(frames);
          for (const auto& f : frames) {
            in_order = in_order && f->timestamp > last;
            last = f->timestamp;
          }
          std::this_thread::yield();
        }
        if (in_order) ++ordered;
      }
    });
  }
  // Every viewer is in before the stream runs (threads may start late on a busy machine).
  while (started.load() < 8) std::this_thread::yield();
  for (int i = 0; i < 20000; ++i) pub->publish(frame(i, i % 25 == 0, 16));
  done = true;
  for (auto& t : viewers) t.join();
  EXPECT_GT(ordered.load(), 0);
  EXPECT_EQ(hub.subscriber_count("p"), 0u);
}

TEST(Hub, EvictCutsAStreamOffAtOnce) {
  int gone = 0;
  Events events;
  events.gone = [&](const std::string&) { ++gone; };
  Hub hub({}, events);
  auto pub = hub.publish("push/C1", {});
  ASSERT_TRUE(pub);
  auto sub = hub.subscribe("push/C1", {});
  ASSERT_TRUE(sub);
  (*pub)->publish(frame(0, true));
  EXPECT_FALSE((*pub)->evicted());
  EXPECT_TRUE(hub.evict("push/C1"));
  EXPECT_TRUE((*pub)->evicted());
  EXPECT_TRUE((*sub)->queue().ended());
  EXPECT_FALSE(hub.is_published("push/C1"));
  EXPECT_FALSE(hub.subscribe("push/C1", {})) << "nobody can join an evicted stream";
  std::vector<FramePtr> frames;
  (*sub)->queue().drain(frames);
  frames.clear();
  (*pub)->publish(frame(3600, false));
  (*sub)->queue().drain(frames);
  EXPECT_TRUE(frames.empty()) << "frames after the eviction go nowhere";
  EXPECT_FALSE(hub.evict("push/C1"));
  pub->reset();
  EXPECT_EQ(gone, 1) << "gone once, not again when the publisher leaves";
  // The device may publish again later (bound again).
  EXPECT_TRUE(hub.publish("push/C1", {}));
}

}  // namespace
}  // namespace nj::media::hub
