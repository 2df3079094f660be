// GET /api/v1/devices/{id}/live.m3u8 and …/hls/{init.mp4 | sN.m4s | pN.K.m4s}: live HLS
// with low-latency parts (blocking playlist reload with _HLS_msn/_HLS_part, preload hints)
// for players without WebSocket MSE support, and for hls.js. Like the WebSocket feed, {id}
// is the serial for now and access is a play token (?token=), carried in every URI of the
// playlist. One channel per stream is kept while HLS clients come; it is dropped after
// 30 s without a request.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "api/media_access.h"
#include "audit/trail.h"
#include "http/router.h"
#include "media/hub/hub.h"
#include "metrics/registry.h"

namespace nj::api {

class HlsApi {
 public:
  HlsApi(media::hub::Hub& hub, const MediaAccess& access, metrics::Registry& metrics);
  ~HlsApi();
  void install(http::Router& router);

  struct Channel;

  // Where the accesses this API opens are logged (the access transparency log).
  void set_trail(audit::Trail trail) { trail_ = std::move(trail); }

 private:
  audit::Trail trail_;
  // The stream's channel, made (and subscribed) if needed; null if it is not live.
  std::shared_ptr<Channel> channel(const std::string& serial);
  void playlist(http::Request& request, const http::Responder& respond);
  void media(http::Request& request, const http::Responder& respond);

  media::hub::Hub& hub_;
  const MediaAccess& access_;
  metrics::Counter& requests_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Channel>> channels_;
};

}  // namespace nj::api
