// GET /api/v1/devices/{id}/talk (WebSocket): a person talks through the camera. Signed-in
// family members, admins and the owner only; ?take=1 lets the owner take the line from
// whoever holds it. The server says, as text:
//   {"type":"ready","codec":"PCMU","rate":8000,"frame_ms":20,"max_frame_bytes":1600}
//   {"type":"listening"}                 the camera plays what is said from now on
//   {"type":"busy","holder","holder_is_owner"}   (then closed, 4409); holder is named to
//                                        admins and the owner only, else null
//   {"type":"ended","reason"}            taken | camera | ended | access_revoked (closed)
// The browser sends binary frames: one byte 0x01 (G.711 µ-law, 8 kHz, mono), then the
// samples (1–1,600 bytes; 20 ms is 160), in order and in real time; and may send
// {"type":"hangup"}. Anything else closes the connection (1003). Nothing said is kept.
//
// GET /api/v1/devices/{id}/calls: the camera's talk calls, for its owner: {"calls":
// [{"user","start","duration_ms"}]}, newest first.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "api/media_access.h"
#include "audit/trail.h"
#include "device/access_watch.h"
#include "http/router.h"
#include "metrics/registry.h"
#include "talk/call_log.h"
#include "talk/talk_service.h"

namespace nj::api {

class TalkApi {
 public:
  // Who a person is to others (their e-mail).
  using LabelOf = std::function<std::string(const std::string& user_id)>;
  // Why the camera cannot take a call now (offline, privacy mode), or nullopt.
  using Refuse = std::function<std::optional<http::Response>(const std::string& serial)>;

  TalkApi(talk::TalkService& talk, talk::CallLog& calls, const MediaAccess& access,
          device::AccessWatch& watch, LabelOf label_of, Refuse refuse, metrics::Registry& metrics);
  void install(http::Router& router);
  class Speaker;

  // Where the accesses this API opens are logged (the access transparency log).
  void set_trail(audit::Trail trail) { trail_ = std::move(trail); }

 private:
  audit::Trail trail_;
  talk::TalkService& talk_;
  talk::CallLog& calls_;
  const MediaAccess& access_;
  device::AccessWatch& watch_;
  LabelOf label_of_;
  Refuse refuse_;
  metrics::Gauge& speakers_;
  metrics::CounterFamily& frames_;
};

}  // namespace nj::api
