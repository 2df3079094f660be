#include "api/live.h"

#include <nlohmann/json.hpp>

#include "media/fmp4/live.h"
#include "media/rtsp/tracks.h"

namespace nj::api {
namespace {

// One viewer: drains its hub queue on its connection's loop and sends fMP4.
class LiveViewer final : public http::WebSocketHandler,
                         public std::enable_shared_from_this<LiveViewer> {
 public:
  LiveViewer(std::shared_ptr<http::WebSocketPeer> peer, metrics::Gauge& viewers,
             metrics::Counter& skips, metrics::Histogram& relay_delay)
      : peer_(std::move(peer)), viewers_(viewers), skips_(skips), relay_delay_(relay_delay) {}

  void start(std::unique_ptr<media::hub::Subscription> subscription) {
    muxer_ = std::make_unique<media::fmp4::LiveMuxer>(subscription->info());
    subscription_ = std::move(subscription);
  }

  void on_open() override {
    viewers_.add(1);
    drain();
  }
  void on_message(std::string_view, bool) override {}  // nothing to say to us yet
  void on_close() override {
    subscription_.reset();  // the hub stops queueing for us at once
    viewers_.add(-1);
  }

  void drain() {
    if (!subscription_) return;
    frames_.clear();
    subscription_->queue().drain(frames_);
    for (const auto& frame : frames_) {
      if (skipping_ && !(frame->keyframe && frame->track == media::hub::TrackKind::kVideo))
        continue;
      auto out = muxer_->push(*frame);
      if (out.init) {
        peer_->send(nlohmann::json{{"type", "init"},
                                   {"codec", *out.codec},
                                   {"width", out.width},
                                   {"height", out.height}}
                        .dump(),
                    false);
        peer_->send(std::string(out.init->begin(), out.init->end()), true);
      }
      if (out.fragment.empty()) continue;
      const int64_t now = media::rtsp::steady_now_us();
      if (started_at_us_ == 0) started_at_us_ = now;
      const bool live = frame->received_at_us >= started_at_us_;
      // The peer's queue is bounded: when it refuses, this viewer is too slow, so skip to
      // the next keyframe instead of falling further behind.
      skipping_ = !peer_->send(std::string(out.fragment.begin(), out.fragment.end()), true);
      if (skipping_) skips_.inc();
      if (live && !skipping_ && frame->track == media::hub::TrackKind::kVideo) {
        relay_delay_.observe(
            static_cast<double>(media::rtsp::steady_now_us() - frame->received_at_us) / 1e6);
      }
    }
    if (subscription_->queue().ended()) {
      // The camera stopped: say so (the player shows it and retries), then close.
      peer_->send(nlohmann::json{{"type", "ended"}}.dump(), false);
      peer_->close(1000, "stream ended");
      subscription_.reset();
    }
  }

 private:
  std::shared_ptr<http::WebSocketPeer> peer_;
  metrics::Gauge& viewers_;
  metrics::Counter& skips_;
  metrics::Histogram& relay_delay_;
  int64_t started_at_us_ = 0;
  std::unique_ptr<media::hub::Subscription> subscription_;
  std::unique_ptr<media::fmp4::LiveMuxer> muxer_;
  std::vector<media::hub::FramePtr> frames_;
  bool skipping_ = false;
};

}  // namespace

LiveApi::LiveApi(media::hub::Hub& hub, const device::StreamTokens& tokens,
                 metrics::Registry& metrics)
    : hub_(hub),
      tokens_(tokens),
      viewers_(metrics.gauge("nightjar_live_viewers", "Open live WebSocket viewers.").with({})),
      skips_(metrics
                 .counter("nightjar_live_skips_total",
                          "Times a slow live viewer was skipped to the next keyframe.")
                 .with({})),
      relay_delay_(metrics
                       .histogram("nightjar_media_relay_delay_seconds",
                                  "From a live access unit's last packet arriving to its "
                                  "hand-off to a viewer's socket.",
                                  {"output"}, media::rtsp::relay_delay_buckets())
                       .with({"ws"})) {}

void LiveApi::install(http::Router& router) {
  router.add_websocket(
      "/api/v1/devices/{id}/live",
      [this](const http::Request& request,
             const std::shared_ptr<http::WebSocketPeer>& peer) -> http::WebSocketAccept {
        const auto& serial = request.params.at("id");
        const auto token = request.query_param("token").value_or("");
        if (!tokens_.check(token, serial, device::StreamPurpose::kPlay)) {
          return {nullptr, http::error_response(401, "unauthenticated",
                                                "a valid play token for this device is needed")};
        }
        auto viewer = std::make_shared<LiveViewer>(peer, viewers_, skips_, relay_delay_);
        std::weak_ptr<LiveViewer> weak = viewer;
        auto subscription = hub_.subscribe("push/" + serial, [weak, peer] {
          peer->post([weak] {
            if (auto v = weak.lock()) v->drain();
          });
        });
        if (!subscription) {
          return {nullptr, http::error_response(404, "not_live", "the camera is not streaming")};
        }
        viewer->start(std::move(*subscription));
        return {viewer, {}};
      });
}

}  // namespace nj::api
