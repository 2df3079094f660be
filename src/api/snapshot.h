// GET /api/v1/devices/{id}/snapshot.jpg: the camera's latest picture, decoded from the
// keyframe in the hub's GOP cache on a worker thread. One decode per keyframe: requests
// for the same keyframe share its JPEG (a cache per device), and requests that come while
// it is being made wait for it. While the camera is not streaming, the last picture made is
// answered (marked X-Snapshot-Stale), unless `may_show_last` says not (privacy mode); it is
// forgotten when the camera's binding ends, so nobody sees a picture of another's home.
// Responses are never cached by browsers or proxies.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api/media_access.h"
#include "audit/trail.h"
#include "common/worker_pool.h"
#include "http/router.h"
#include "media/hub/hub.h"
#include "metrics/registry.h"

namespace nj::api {

class SnapshotApi {
 public:
  SnapshotApi(media::hub::Hub& hub, const MediaAccess& access, WorkerPool& workers,
              metrics::Registry& metrics);
  void install(http::Router& router);
  // Whether the last picture may be shown while the camera is not streaming.
  void set_may_show_last(std::function<bool(const std::string& serial)> f) {
    may_show_last_ = std::move(f);
  }
  // Whether a picture can be answered now: the camera streams, or its last one is kept.
  bool has_picture(const std::string& serial);
  // The camera's binding ended: its last picture goes.
  void forget(const std::string& serial);

  // Where the accesses this API opens are logged (the access transparency log).
  void set_trail(audit::Trail trail) { trail_ = std::move(trail); }

 private:
  audit::Trail trail_;
  void get(http::Request& request, http::Responder respond);

  struct Entry {
    media::hub::FramePtr keyframe;            // what the JPEG shows
    std::shared_ptr<const std::string> jpeg;  // null while it is being made
    std::vector<http::Responder> waiting;
    uint64_t version = 0;
    bool keep = true;  // false: forgotten while being made
  };
  media::hub::Hub& hub_;
  const MediaAccess& access_;
  WorkerPool& workers_;
  metrics::CounterFamily& outcomes_;
  std::mutex mu_;
  std::map<std::string, Entry> cache_;
  uint64_t next_version_ = 1;
  std::function<bool(const std::string&)> may_show_last_;
};

}  // namespace nj::api
