// /api/v1/devices…, /api/v1/bind-tokens…, /api/v1/device-endpoints: adding a camera by QR
// code, the person's cameras, renaming, settings and reboot over the device's RPC,
// unbinding (which cuts its streams and its credentials at once), waking a camera for live
// view, and RTSP tokens for NVRs. Every device route checks, on every request, that the
// caller may act on that device; another person's device is "not found".
#pragma once

#include <string>

#include "account/throttle.h"
#include "api/guard.h"
#include "audit/trail.h"
#include "common/time_zone.h"
#include "device/broker_link.h"
#include "device/service.h"
#include "device/stream_access.h"
#include "device/stream_demand.h"
#include "http/router.h"
#include "mail/rate_limit.h"
#include "media/hub/hub.h"

namespace nj::api {

// The device {id} of the request if its caller is signed in and has at least that role on
// it; otherwise the refusal (401, 404 for a device that is not theirs, 403 for too small a
// role) has been sent and nullopt comes back. Read from the database on every request.
std::optional<device::OwnedDevice> device_for(const Guard& guard, device::DeviceService& devices,
                                              const http::Request& r,
                                              const http::Responder& respond,
                                              device::Role at_least);

struct DevicesOptions {
  std::string public_url;   // http(s)://host:port, for QR payloads
  std::string mqtt_url;     // mqtt://host:port, as devices reach the broker
  std::string rtsp_base;    // rtsp://host:port, for re-stream URLs
  std::string mqtts_url;    // mqtts://host:port: the broker over TLS ("" without)
  std::string broker_cert;  // its certificate (PEM), pinned by cameras from their payload
};

class DevicesApi {
 public:
  DevicesApi(device::DeviceService& devices, device::DeviceRegistry& registry,
             device::BrokerLink& link, device::StreamDemand& demand,
             const device::StreamAccess& tokens, const Guard& guard, const Clock& clock,
             mail::MailRateLimiter& mail_limits, TimeZones& zones, DevicesOptions options)
      : devices_(devices),
        registry_(registry),
        link_(link),
        demand_(demand),
        tokens_(tokens),
        guard_(guard),
        mail_limits_(mail_limits),
        zones_(zones),
        clock_(clock),
        pairing_throttle_(clock, account::ThrottleOptions{}),
        options_(std::move(options)) {}
  void install(http::Router& router);
  // Told when a device is unbound, for everything that ends with its binding (its streams,
  // broker credentials, open viewers, recording plan and media): set by the composition
  // root, which also runs it for cancelled accounts.
  void on_unbound(std::function<void(const std::string& serial)> f) { unbound_ = std::move(f); }
  // Whether a picture of the camera can be had now (live, or its last one kept): the list
  // says so ("picture"), so the app asks only for pictures that exist.
  void set_has_picture(std::function<bool(const std::string& serial)> f) {
    has_picture_ = std::move(f);
  }
  // Told when a person's access to a device ends (a share revoked), to close their views.
  void on_access_revoked(
      std::function<void(const std::string& serial, const std::string& user)> f) {
    access_revoked_ = std::move(f);
  }
  // Told when a person accepted a share (they have a new camera).
  void on_access_granted(std::function<void(const std::string& user)> f) {
    access_granted_ = std::move(f);
  }

  // Where the accesses this API opens are logged (the access transparency log).
  void set_trail(audit::Trail trail) { trail_ = std::move(trail); }

 private:
  audit::Trail trail_;
  void log_share(const char* kind, const device::Share& s, const account::Principal& who);
  // What a camera scans (or is given over SoftAP) to join this cloud with a bind token.
  nlohmann::json qr_payload(const std::string& token) const;
  std::function<void(const std::string&, const std::string&)> access_revoked_;
  std::function<void(const std::string&)> access_granted_;
  std::function<void(const std::string&)> unbound_;
  std::function<bool(const std::string&)> has_picture_;
  // device_json, and for owners and admins when the privacy schedule next acts.
  nlohmann::json detail_json(const device::OwnedDevice& owned);
  std::optional<device::OwnedDevice> device_for(const http::Request& r,
                                                const http::Responder& respond,
                                                device::Role at_least) {
    return api::device_for(guard_, devices_, r, respond, at_least);
  }
  device::DeviceService& devices_;
  device::DeviceRegistry& registry_;
  device::BrokerLink& link_;
  device::StreamDemand& demand_;
  const device::StreamAccess& tokens_;
  const Guard& guard_;
  mail::MailRateLimiter& mail_limits_;  // invitations are mail
  TimeZones& zones_;                    // privacy schedules' time zones
  const Clock& clock_;
  account::LoginThrottle pairing_throttle_;  // wrong pairing codes, per person and address
  DevicesOptions options_;
};

// The JSON of a device as its viewer sees it (DESIGN.md: id, serial, name, model, online,
// last_seen, role, and more).
nlohmann::json device_json(const device::OwnedDevice& d);
nlohmann::json share_json(const device::Share& s);
// A device service error as an API response.
http::Response device_error(const device::DeviceError& e);

}  // namespace nj::api
