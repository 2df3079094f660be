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

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "api/media_access.h"
#include "http/router.h"
#include "media/hub/hub.h"
#include "metrics/registry.h"

namespace nj::api {

class LiveApi {
 public:
  LiveApi(media::hub::Hub& hub, const MediaAccess& access, metrics::Registry& metrics);
  void install(http::Router& router);
  // Access to a device ended for a person (a share revoked): their open live views of it
  // are told so and closed at once. Thread-safe.
  void revoke(const std::string& serial, const std::string& user_id);
  class Viewer;

 private:
  // One WebSocket route: viewers of hub stream `prefix` + serial, for grants of at least
  // that role (above viewer: signed-in people only).
  void add_route(http::Router& router, const std::string& route, const std::string& prefix,
                 device::Role at_least);
  media::hub::Hub& hub_;
  const MediaAccess& access_;
  std::mutex mu_;
  std::multimap<std::pair<std::string, std::string>, std::weak_ptr<Viewer>> by_person_;
  metrics::Gauge& viewers_;
  metrics::Counter& skips_;
  metrics::Histogram& relay_delay_;
};

}  // namespace nj::api
