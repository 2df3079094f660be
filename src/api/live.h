// GET /api/v1/devices/{id}/live (WebSocket): live fMP4 for Media Source Extensions. For
// now {id} is the device serial and access is a play token (?token=, from `nightjar admin
// stream-token`); the devices work puts ownership checks in front. Messages: one text
// {"type":"init","codec","width","height"}, then binary: the init segment, then a
// fragment per access unit. A viewer whose connection cannot keep up skips to the next
// keyframe.
#pragma once

#include "device/stream_tokens.h"
#include "http/router.h"
#include "media/hub/hub.h"
#include "metrics/registry.h"

namespace nj::api {

class LiveApi {
 public:
  LiveApi(media::hub::Hub& hub, const device::StreamTokens& tokens, metrics::Registry& metrics);
  void install(http::Router& router);

 private:
  media::hub::Hub& hub_;
  const device::StreamTokens& tokens_;
  metrics::Gauge& viewers_;
  metrics::Counter& skips_;
  metrics::Histogram& relay_delay_;
};

}  // namespace nj::api
