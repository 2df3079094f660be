// Who may watch a device's media (live WebSocket, HLS, snapshots), decided on every request
// and never from a cache: a signed-in person with a role on the device, when the path names
// it by id; or a play token for it (?token=, from the API or `nightjar admin stream-token`),
// when the path names it by serial, as NVR-style clients and the load tool do. A token is
// re-checked on every use: the person it was minted for must still have a role on the
// binding it was minted under (device::StreamAccess).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "audit/trail.h"
#include "common/result.h"
#include "device/service.h"
#include "device/stream_access.h"
#include "http/message.h"

namespace nj::api {

class MediaAccess {
 public:
  struct Grant {
    std::string serial;
    std::string token;    // the play token used, if any (HLS puts it in its URIs)
    std::string user_id;  // the signed-in person, when that is how access was given
    std::string subject;  // who holds it: a user id (signed in or by token) or "operator"
    device::Role role = device::Role::kViewer;  // theirs on the device (a token: viewer)
    int64_t generation = 0;  // the device's binding generation this was checked against
    std::string session_id;  // the signed-in session, or the token: for the access log
  };
  // The grant for device `id` if the request's signed-in person may watch it; nullopt
  // otherwise (no session, or not theirs). Empty: only tokens are accepted.
  using SessionCheck =
      std::function<std::optional<Grant>(const http::Request& request, const std::string& id)>;

  explicit MediaAccess(const device::StreamAccess& tokens, SessionCheck by_session = {})
      : tokens_(tokens), by_session_(std::move(by_session)) {}

  // The grant for the device in the path ({id}), or the response refusing the request.
  Result<Grant, http::Response> check(const http::Request& request) const;

 private:
  const device::StreamAccess& tokens_;
  SessionCheck by_session_;
};

// The access log's record of a grant being used: the person (a token's holder too; "" for
// the operator), the session or token, the camera.
inline audit::Access access_of(const MediaAccess::Grant& g, std::string kind,
                               std::string detail = {}) {
  return {std::move(kind),
          g.serial,
          {},
          g.subject == device::kOperatorSubject ? std::string() : g.subject,
          g.session_id,
          std::move(detail),
          g.generation};
}

}  // namespace nj::api
