// /api/v1/events…: what happened in front of a person's cameras, for those with the family
// role or above on each camera (checked on every request; another person's event is "not
// found"):
//   GET    /api/v1/events?device&from&to&kind&unread&cursor&limit  newest first, paged
//   GET    /api/v1/events/unread                        {"count"} (up to 1000)
//   POST   /api/v1/events/read {"before"?}              everything up to then is read
//   GET    /api/v1/events/{id}                          one event
//   GET    /api/v1/events/{id}/snapshot.jpg             its picture
//   PATCH  /api/v1/events/{id} {"read": bool}           read or unread, for this person
//   DELETE /api/v1/events/{id}                          owner and admins
//   GET    /api/v1/devices/{id}/events?from&to          the timeline's markers (≤ 10,000)
// Each event says where its clip is: from its pre-roll before it began to its post-roll
// after it ended.
#pragma once

#include "api/guard.h"
#include "audit/trail.h"
#include "common/clock.h"
#include "device/service.h"
#include "events/event_store.h"
#include "events/snapshot_files.h"
#include "http/router.h"

namespace nj::api {

struct EventsApiOptions {
  int64_t pre_roll_ms = 5000, post_roll_ms = 10000;
};

class EventsApi {
 public:
  EventsApi(device::DeviceService& devices, const Guard& guard, events::EventStore& store,
            events::SnapshotFiles& files, const Clock& clock, EventsApiOptions options = {})
      : devices_(devices),
        guard_(guard),
        store_(store),
        files_(files),
        clock_(clock),
        options_(options) {}
  void install(http::Router& router);

  // Where opening an alarm picture is logged (the access transparency log).
  void set_trail(audit::Trail trail) { trail_ = std::move(trail); }

 private:
  audit::Trail trail_;
  // The event if the person may see it, with their role on its camera; or the refusal.
  struct Found {
    events::Event event;
    device::OwnedDevice device;
  };
  Result<Found, http::Response> find(const std::string& user_id, const std::string& event_id);
  nlohmann::json event_json(const events::Event& e, const std::string& device_name) const;

  device::DeviceService& devices_;
  const Guard& guard_;
  events::EventStore& store_;
  events::SnapshotFiles& files_;
  const Clock& clock_;
  EventsApiOptions options_;
};

}  // namespace nj::api
