#include "api/live.h"

#include <nlohmann/json.hpp>

#include "media/fmp4/live.h"
#include "media/rtsp/tracks.h"

namespace nj::api {
namespace {

constexpr size_t kMaxMessageBytes = 256 * 1024;

}  // namespace

// One viewer: drains its hub queue on its connection's loop and sends fMP4.
class LiveApi::Viewer final : public http::WebSocketHandler,
                              public net::Wakeable,
                              public std::enable_shared_from_this<LiveApi::Viewer> {
 public:
  Viewer(std::shared_ptr<http::WebSocketPeer> peer, metrics::Gauge& viewers,
         metrics::Counter& skips, metrics::Histogram& relay_delay)
      : peer_(std::move(peer)), viewers_(viewers), skips_(skips), relay_delay_(relay_delay) {}

  void start(std::unique_ptr<media::hub::Subscription> subscription,
             std::unique_ptr<device::AccessWatch::Hold> hold) {
    subscription_ = std::move(subscription);
    hold_ = std::move(hold);
  }

  void on_open() override {
    viewers_.add(1);
    drain();
  }
  void on_message(std::string_view, bool) override {}  // nothing to say to us yet
  void on_wake() override { drain(); }  // the hub queued frames (WebSocketPeer::wake)
  // From any thread (the access watch): told on the connection's loop, then closed.
  void revoke() {
    peer_->post([self = shared_from_this()] {
      if (!self->subscription_) return;
      self->subscription_.reset();
      self->peer_->send(nlohmann::json{{"type", "ended"}, {"reason", "access_revoked"}}.dump(),
                        false);
      self->peer_->close(1008, "access revoked");
    });
  }
  void on_close() override {
    subscription_.reset();  // the hub stops queueing for us at once
    viewers_.add(-1);
  }

  // Sends what the hub queued as one message of shared fragments (made once per frame for
  // every viewer by the stream's LivePackager), so a viewer costs no muxing and no copies.
  void drain() {
    if (!subscription_) return;
    frames_.clear();
    subscription_->queue().drain(frames_);
    std::vector<http::SharedBytes> parts;
    size_t parts_bytes = 0;
    const int64_t now = media::rtsp::steady_now_us();
    if (started_at_us_ == 0) started_at_us_ = now;
    for (const auto& frame : frames_) {
      auto fragment = std::dynamic_pointer_cast<const media::fmp4::LiveFragment>(
          frame->packaged(media::hub::Packaging::kLiveFmp4));
      if (!fragment || !fragment->init || fragment->bytes.empty()) continue;
      const bool keyframe = frame->keyframe && frame->track == media::hub::TrackKind::kVideo;
      if (skipping_ && !keyframe) continue;
      const bool starting = skipping_;
      skipping_ = false;
      if (fragment->init != sent_init_) {
        flush(parts);
        const auto& init = *fragment->init;
        peer_->send(nlohmann::json{{"type", "init"},
                                   {"codec", init.codec},
                                   {"width", init.width},
                                   {"height", init.height}}
                        .dump(),
                    false);
        peer_->send_parts({{fragment->init, init.bytes}}, true);
        sent_init_ = fragment->init;
      }
      parts.push_back({fragment, fragment->bytes});
      parts_bytes += fragment->bytes.size();
      // The keyframe a viewer starts with goes alone, so the first picture is not held up
      // by the rest of the cached GOP; other messages stay a reasonable size.
      if (starting || parts_bytes >= kMaxMessageBytes) {
        flush(parts);
        parts_bytes = 0;
      }
      if (frame->track == media::hub::TrackKind::kVideo &&
          frame->received_at_us >= started_at_us_) {
        relay_delay_.observe(static_cast<double>(now - frame->received_at_us) / 1e6);
      }
    }
    flush(parts);
    frames_.clear();
    if (subscription_->queue().ended()) {
      // The camera stopped: say so (the player shows it and retries), then close.
      peer_->send(nlohmann::json{{"type", "ended"}}.dump(), false);
      peer_->close(1000, "stream ended");
      subscription_.reset();
    }
  }

 private:
  void flush(std::vector<http::SharedBytes>& parts) {
    if (parts.empty()) return;
    // The peer's queue is bounded: when it refuses, this viewer is too slow, so skip to
    // the next keyframe instead of falling further behind.
    if (!peer_->send_parts(std::move(parts), true)) {
      skipping_ = true;
      skips_.inc();
    }
    parts.clear();
  }

 private:
  std::shared_ptr<http::WebSocketPeer> peer_;
  metrics::Gauge& viewers_;
  metrics::Counter& skips_;
  metrics::Histogram& relay_delay_;
  int64_t started_at_us_ = 0;
  std::unique_ptr<media::hub::Subscription> subscription_;
  std::unique_ptr<device::AccessWatch::Hold> hold_;  // the access this view was opened on
  std::shared_ptr<const media::fmp4::LiveInit> sent_init_;
  std::vector<media::hub::FramePtr> frames_;
  bool skipping_ = true;  // until the first keyframe
};

LiveApi::LiveApi(media::hub::Hub& hub, const MediaAccess& access, device::AccessWatch& watch,
                 metrics::Registry& metrics)
    : hub_(hub),
      access_(access),
      watch_(watch),
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
  add_route(router, "/api/v1/devices/{id}/live", "push/", device::Role::kViewer);
  add_route(router, "/api/v1/devices/{id}/sdcard/playback", "sd/", device::Role::kAdmin);
}

void LiveApi::add_route(http::Router& router, const std::string& route, const std::string& prefix,
                        device::Role at_least) {
  router.add_websocket(
      route,
      [this, prefix, at_least](
          const http::Request& request,
          const std::shared_ptr<http::WebSocketPeer>& peer) -> http::WebSocketAccept {
        auto grant = access_.check(request);
        if (!grant) return {nullptr, std::move(grant).error()};
        if (at_least > device::Role::kViewer &&
            (grant->user_id.empty() || grant->role < at_least)) {
          return {nullptr,
                  http::error_response(403, "forbidden", "only the owner or an admin may")};
        }
        const std::string serial = grant->serial;
        auto viewer = std::make_shared<Viewer>(peer, viewers_, skips_, relay_delay_);
        std::weak_ptr<Viewer> weak = viewer;
        // While the subscription lives, so does the viewer (it ends the subscription first).
        auto subscription = hub_.subscribe(
            prefix + serial,
            [target = viewer.get(), handle = std::weak_ptr<net::Wakeable>(viewer), peer] {
              peer->wake(*target, handle);
            },
            media::hub::Packaging::kLiveFmp4);
        if (!subscription) {
          return {nullptr, http::error_response(404, "not_live", "the camera is not streaming")};
        }
        // Signed in or by token, the view lasts as long as the access it was opened on.
        viewer->start(std::move(*subscription),
                      watch_.hold(serial, grant->subject, grant->generation, [weak] {
                        if (auto v = weak.lock()) v->revoke();
                      }));
        if (trail_) trail_(access_of(*grant, prefix == "sd/" ? "sd_playback" : "live"));
        return {viewer, {}};
      });
}

}  // namespace nj::api
