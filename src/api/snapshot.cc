#include "api/snapshot.h"

#include "media/snapshot/jpeg.h"

namespace nj::api {
namespace {

http::Response jpeg_response(const std::shared_ptr<const std::string>& jpeg, uint64_t version) {
  http::Response r;
  r.status = 200;
  r.headers.set("Content-Type", "image/jpeg");
  r.headers.set("Cache-Control", "no-store");  // a private picture of someone's home
  r.headers.set("X-Snapshot-Version", std::to_string(version));
  r.body = *jpeg;
  return r;
}

}  // namespace

SnapshotApi::SnapshotApi(media::hub::Hub& hub, const MediaAccess& access, WorkerPool& workers,
                         metrics::Registry& metrics)
    : hub_(hub),
      access_(access),
      workers_(workers),
      outcomes_(metrics.counter("nightjar_snapshots_total",
                                "Snapshot requests, by how they were answered.", {"outcome"})) {}

void SnapshotApi::install(http::Router& router) {
  router.add_async(
      http::Method::kGet, "/api/v1/devices/{id}/snapshot.jpg",
      [this](http::Request& r, http::Responder respond) { get(r, std::move(respond)); });
}

void SnapshotApi::get(http::Request& request, http::Responder respond) {
  auto grant = access_.check(request);
  if (!grant) return respond(std::move(grant).error());
  const std::string serial = grant->serial;
  if (trail_) trail_(access_of(*grant, "snapshot"));
  // The newest keyframe: the first frame a new subscriber gets is the cached GOP's.
  media::hub::FramePtr keyframe;
  media::hub::StreamInfo info;
  {
    auto peek = hub_.subscribe("push/" + serial, {});
    if (!peek) {
      std::shared_ptr<const std::string> last;
      uint64_t version = 0;
      if (may_show_last_ && may_show_last_(serial)) {
        std::lock_guard lock(mu_);
        if (auto it = cache_.find(serial); it != cache_.end() && it->second.jpeg) {
          last = it->second.jpeg;
          version = it->second.version;
        }
      }
      if (last) {
        outcomes_.with({"last"}).inc();
        auto r = jpeg_response(last, version);
        r.headers.set("X-Snapshot-Stale", "1");
        return respond(std::move(r));
      }
      outcomes_.with({"not_live"}).inc();
      return respond(http::error_response(404, "not_live", "the camera is not streaming"));
    }
    std::vector<media::hub::FramePtr> frames;
    (*peek)->queue().drain(frames);
    info = (*peek)->info();
    for (const auto& f : frames) {
      if (f->track == media::hub::TrackKind::kVideo && f->keyframe) {
        keyframe = f;
        break;
      }
    }
  }
  if (!keyframe) {
    outcomes_.with({"no_keyframe"}).inc();
    return respond(http::error_response(503, "no_picture", "no keyframe has arrived yet"));
  }

  std::unique_lock lock(mu_);
  auto& entry = cache_[serial];
  if (entry.keyframe == keyframe) {
    if (entry.jpeg) {
      outcomes_.with({"cached"}).inc();
      auto jpeg = entry.jpeg;
      const auto version = entry.version;
      lock.unlock();
      return respond(jpeg_response(jpeg, version));
    }
    entry.waiting.push_back(std::move(respond));  // being made: wait for the same picture
    return;
  }
  // A newer keyframe: make its picture (once), on a worker.
  entry.keyframe = keyframe;
  entry.jpeg.reset();
  entry.keep = true;
  entry.waiting.push_back(std::move(respond));
  const uint64_t version = next_version_++;
  entry.version = version;
  const bool queued = workers_.post([this, serial, keyframe, info, version] {
    const bool hevc = info.video_codec == "H265";
    const std::span<const uint8_t> sets[] = {info.vps, info.sps, info.pps};
    auto jpeg = media::snapshot::keyframe_to_jpeg(
        hevc ? media::snapshot::VideoCodec::kH265 : media::snapshot::VideoCodec::kH264,
        keyframe->data, sets);
    std::vector<http::Responder> waiting;
    std::shared_ptr<const std::string> bytes;
    {
      std::lock_guard guard(mu_);
      auto& e = cache_[serial];
      if (e.version != version) return;  // a newer keyframe took over; its waiters wait
      waiting.swap(e.waiting);
      if (jpeg) {
        bytes = std::make_shared<const std::string>(std::move(*jpeg));
        if (e.keep) e.jpeg = bytes;
      } else {
        e.keyframe.reset();  // try again next time
      }
    }
    outcomes_.with({jpeg ? "decoded" : "failed"}).inc(waiting.size());
    for (auto& r : waiting) {
      if (bytes) {
        r(jpeg_response(bytes, version));
      } else {
        r(http::error_response(502, "bad_picture", "the camera's picture could not be decoded"));
      }
    }
  });
  if (!queued) {
    std::vector<http::Responder> waiting;
    waiting.swap(entry.waiting);
    entry.keyframe.reset();
    lock.unlock();
    outcomes_.with({"busy"}).inc(waiting.size());
    for (auto& r : waiting) {
      r(http::error_response(503, "busy", "too many pictures are being made; try again"));
    }
  }
}

bool SnapshotApi::has_picture(const std::string& serial) {
  if (hub_.is_published("push/" + serial)) return true;
  std::lock_guard lock(mu_);
  const auto it = cache_.find(serial);
  return it != cache_.end() && it->second.jpeg != nullptr;
}

void SnapshotApi::forget(const std::string& serial) {
  std::lock_guard lock(mu_);
  auto it = cache_.find(serial);
  if (it == cache_.end()) return;
  if (it->second.waiting.empty()) {
    cache_.erase(it);
    return;
  }
  it->second.jpeg.reset();  // being made: its waiters (let in before) get it; it is not kept
  it->second.keep = false;
}

}  // namespace nj::api
