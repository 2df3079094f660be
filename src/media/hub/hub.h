// The stream hub: one publisher and many subscribers per stream path ("push/CAM1"). Each
// frame is built once and shared by reference with every subscriber. Every subscriber has
// a bounded queue; one that falls behind is emptied and resumes at the next keyframe, so it
// never holds up the publisher or the others. The current GOP is kept so a new subscriber
// starts at a keyframe at once. Transport-free: sessions drain queues on their own loops.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace nj::media::hub {

enum class TrackKind : uint8_t { kVideo, kAudio };

// A form of a frame made once for every subscriber that wants it (an fMP4 fragment, say).
struct Packaged {
  virtual ~Packaged() = default;
};

// The packaged forms a subscriber can ask for: the live fMP4 fragment (WebSocket, HLS) and
// the RTP packets (RTSP players).
enum class Packaging : uint8_t { kNone, kLiveFmp4, kRtp };
inline constexpr size_t kPackagingKinds = 2;  // besides kNone
constexpr size_t packaging_index(Packaging p) { return static_cast<size_t>(p) - 1; }

struct Frame {
  TrackKind track = TrackKind::kVideo;
  int64_t timestamp = 0;  // in the track's clock (90 kHz video, the sample rate for audio)
  bool keyframe = false;
  int64_t received_at_us = 0;  // steady clock when it arrived
  // When it was captured (µs since the Unix epoch) by the sender's clock, from its RTCP
  // sender reports; 0 until one came. Tracks of one sender line up exactly on it.
  int64_t capture_us = 0;
  std::vector<uint8_t> data;  // video: AVCC access unit; audio: one frame (see StreamInfo)
  // Set by the stream's packagers, those it has, before any subscriber that asked for that
  // form can see the frame (and never changed after).
  mutable std::array<std::shared_ptr<const Packaged>, kPackagingKinds> packaged_forms;
  const std::shared_ptr<const Packaged>& packaged(Packaging p) const {
    return packaged_forms[packaging_index(p)];
  }
};
using FramePtr = std::shared_ptr<const Frame>;

// What a subscriber needs to set up its output before the first frame.
struct StreamInfo {
  std::string video_codec;  // "H264" or "H265"
  std::vector<uint8_t> sps, pps;
  std::vector<uint8_t> vps;  // H.265 only
  uint32_t width = 0, height = 0;
  // Audio, if the stream has it: "AAC" (AAC-LC, raw frames), "OPUS" (Opus packets, 48 kHz),
  // "PCMU" or "PCMA" (G.711 samples, a byte each), or empty.
  std::string audio_codec;
  uint32_t audio_sample_rate = 0;
  int audio_channels = 0;
  std::vector<uint8_t> audio_config;  // AAC: the AudioSpecificConfig
};

// Turns each frame of one stream, in order, into its packaged form. Runs on the publisher's
// thread under the stream's lock, only while some subscriber wants packaged frames.
class Packager {
 public:
  virtual ~Packager() = default;
  virtual std::shared_ptr<const Packaged> package(const Frame& frame, const StreamInfo& info) = 0;
};
using PackagerFactory = std::function<std::unique_ptr<Packager>()>;

struct QueueLimits {
  size_t max_frames = 256;
  size_t max_bytes = 8 * 1024 * 1024;
};

// One subscriber's queue. push() is called on the publisher's thread, drain() on the
// subscriber's; wake is called (on the publisher's thread) when the queue stops being empty.
class SubscriberQueue {
 public:
  SubscriberQueue(QueueLimits limits, std::function<void()> wake)
      : limits_(limits), wake_(std::move(wake)) {}

  void push(const FramePtr& frame);
  // Moves every queued frame into out (appending); returns how many.
  size_t drain(std::vector<FramePtr>& out);
  uint64_t dropped_frames() const;
  uint64_t skips() const;  // times the queue was emptied to wait for a keyframe
  // The stream was unpublished: nothing more will come once the queue is drained.
  void end();
  bool ended() const;
  void set_packaging(Packaging p) { packaging_ = p; }
  Packaging packaging() const { return packaging_; }

 private:
  QueueLimits limits_;
  std::function<void()> wake_;
  mutable std::mutex mu_;
  std::vector<FramePtr> frames_;
  size_t bytes_ = 0;
  bool waiting_for_keyframe_ = false;
  uint64_t dropped_ = 0, skips_ = 0;
  bool ended_ = false;
  Packaging packaging_ = Packaging::kNone;  // set before the queue is shared
};

enum class Error { kAlreadyPublished, kNotFound, kTooManySubscribers };

class Hub;
struct Stream;

// Held by the publisher; the stream ends when it is destroyed.
class Publisher {
 public:
  ~Publisher();
  // False once the hub has cut this stream off (Hub::evict): the frame went nowhere, and
  // the source should be closed.
  bool publish(const FramePtr& frame);
  void update_info(StreamInfo info);
  bool evicted() const;  // the same answer, asked outside the publishing path
  const std::string& path() const { return path_; }

 private:
  friend class Hub;
  Publisher(Hub& hub, std::string path, std::shared_ptr<Stream> stream)
      : hub_(hub), path_(std::move(path)), stream_(std::move(stream)) {}
  Hub& hub_;
  std::string path_;
  std::shared_ptr<Stream> stream_;
};

// Held by a subscriber; unsubscribes when destroyed.
class Subscription {
 public:
  ~Subscription();
  SubscriberQueue& queue() { return *queue_; }
  const StreamInfo& info() const { return info_; }

 private:
  friend class Hub;
  Subscription(Hub& hub, std::string path, std::shared_ptr<Stream> stream,
               std::shared_ptr<SubscriberQueue> q, StreamInfo info)
      : hub_(hub),
        path_(std::move(path)),
        stream_(std::move(stream)),
        queue_(std::move(q)),
        info_(std::move(info)) {}
  Hub& hub_;
  std::string path_;
  std::shared_ptr<Stream> stream_;
  std::shared_ptr<SubscriberQueue> queue_;
  StreamInfo info_;
};

// Stream lifecycle, for the layers above (on-demand streaming, recording).
struct Events {
  std::function<void(const std::string& path)> published;
  std::function<void(const std::string& path)> gone;
  std::function<void(const std::string& path, size_t subscribers)> subscribers_changed;
};

struct HubLimits {
  size_t max_subscribers_per_stream = 10'000;
  size_t gop_cache_max_bytes = 16 * 1024 * 1024;
  QueueLimits queue;
};

class Hub {
 public:
  explicit Hub(HubLimits limits = {}, Events events = {})
      : limits_(limits), events_(std::move(events)) {}

  Result<std::unique_ptr<Publisher>, Error> publish(const std::string& path, StreamInfo info);
  // The new subscription's queue starts with the cached GOP (from its keyframe). With
  // packaged, every frame it receives carries its packaged form (the hub needs a factory).
  // limits: the queue's own, instead of the hub's.
  Result<std::unique_ptr<Subscription>, Error> subscribe(
      const std::string& path, std::function<void()> wake, Packaging packaging = Packaging::kNone,
      std::optional<QueueLimits> limits = std::nullopt);
  // Set before streams are published (not thread-safe against subscribe).
  void set_packager_factory(Packaging p, PackagerFactory factory) {
    packager_factories_[packaging_index(p)] = std::move(factory);
  }
  bool is_published(const std::string& path) const;
  // Cuts a stream off at once (its device was unbound): every subscriber is told it ended,
  // and the publisher's frames go nowhere (Publisher::evicted). False if not published.
  bool evict(const std::string& path);
  size_t subscriber_count(const std::string& path) const;
  size_t stream_count() const;

 private:
  friend class Publisher;
  friend class Subscription;
  void on_unpublish(const std::string& path, const std::shared_ptr<Stream>& stream);
  void on_unsubscribe(const std::string& path, Stream& stream, const SubscriberQueue* queue);

  HubLimits limits_;
  Events events_;
  std::array<PackagerFactory, kPackagingKinds> packager_factories_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Stream>, std::less<>> streams_;
};

// One published stream. Its own lock: publishing on one stream never waits for another.
struct Stream {
  explicit Stream(const HubLimits& l) : limits(l) {}
  bool publish(const FramePtr& frame);  // false once evicted
  const HubLimits& limits;
  mutable std::mutex mu;
  StreamInfo info;
  std::vector<FramePtr> gop;
  size_t gop_bytes = 0;
  bool gop_overflow = false;
  bool live = true;
  std::vector<std::shared_ptr<SubscriberQueue>> subscribers;
  // Per packaging, while some subscriber wants it.
  std::array<std::unique_ptr<Packager>, kPackagingKinds> packagers;
  std::array<size_t, kPackagingKinds> packaged_subscribers{};
};

}  // namespace nj::media::hub
