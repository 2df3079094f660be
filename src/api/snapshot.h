// GET /api/v1/devices/{id}/snapshot.jpg: the camera's latest picture, decoded from the
// keyframe in the hub's GOP cache on a worker thread. One decode per keyframe: requests
// for the same keyframe share its JPEG (a cache per device), and requests that come while
// it is being made wait for it. Like the live feeds, {id} is the serial and access is a
// play token for now. Responses are never cached by browsers or proxies.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api/media_access.h"
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

 private:
  void get(http::Request& request, http::Responder respond);

  struct Entry {
    media::hub::FramePtr keyframe;            // what the JPEG shows
    std::shared_ptr<const std::string> jpeg;  // null while it is being made
    std::vector<http::Responder> waiting;
    uint64_t version = 0;
  };
  media::hub::Hub& hub_;
  const MediaAccess& access_;
  WorkerPool& workers_;
  metrics::CounterFamily& outcomes_;
  std::mutex mu_;
  std::map<std::string, Entry> cache_;
  uint64_t next_version_ = 1;
};

}  // namespace nj::api
