// GET /api/v1/devices/{id}/live (WebSocket): live fMP4 for Media Source Extensions, for a
// signed-in person with a role on device {id}, or with a play token for serial {id} (see
// MediaAccess). Messages: one text
// {"type":"init","codec","width","height"}, then binary: the init segment, then a
// fragment per access unit. A viewer whose connection cannot keep up skips to the next
// keyframe.
//
// GET /api/v1/devices/{id}/sdcard/playback (WebSocket): the same, for the recording of the
// camera's SD card it is playing (POST …/sdcard/recordings/{name}/play), for the owner and
// the device's admins only.
#pragma once

#include <memory>
#include <string>

#include "api/media_access.h"
#include "audit/trail.h"
#include "device/access_watch.h"
#include "http/router.h"
#include "media/hub/hub.h"
#include "metrics/registry.h"

namespace nj::api {

class LiveApi {
 public:
  // Every open viewer holds its access in `watch`: when that access ends (a share revoked,
  // the camera unbound, the account cancelled) it is told so and closed at once.
  LiveApi(media::hub::Hub& hub, const MediaAccess& access, device::AccessWatch& watch,
          metrics::Registry& metrics);
  void install(http::Router& router);
  class Viewer;

  // Where the accesses this API opens are logged (the access transparency log).
  void set_trail(audit::Trail trail) { trail_ = std::move(trail); }

 private:
  audit::Trail trail_;
  // One WebSocket route: viewers of hub stream `prefix` + serial, for grants of at least
  // that role (above viewer: signed-in people only).
  void add_route(http::Router& router, const std::string& route, const std::string& prefix,
                 device::Role at_least);
  media::hub::Hub& hub_;
  const MediaAccess& access_;
  device::AccessWatch& watch_;
  metrics::Gauge& viewers_;
  metrics::Counter& skips_;
  metrics::Histogram& relay_delay_;
};

}  // namespace nj::api
