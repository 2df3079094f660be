// GET /api/v1/devices/{id}/access-log: the owner's view of their camera's access log — who
// watched, played back, exported, pictured, talked to it or read its card, when, from which
// session, and every share change — for the camera's current binding only (a next owner sees
// nothing of the last one's, and the last one nothing of theirs).
#pragma once

#include "api/guard.h"
#include "audit/audit_log.h"
#include "device/service.h"
#include "http/router.h"

namespace nj::api {

class AccessLogApi {
 public:
  AccessLogApi(const Guard& guard, device::DeviceService& devices, audit::AuditLog& log)
      : guard_(guard), devices_(devices), log_(log) {}
  void install(http::Router& router);

 private:
  const Guard& guard_;
  device::DeviceService& devices_;
  audit::AuditLog& log_;
};

}  // namespace nj::api
