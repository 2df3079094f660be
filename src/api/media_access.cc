#include "api/media_access.h"

namespace nj::api {

Result<MediaAccess::Grant, http::Response> MediaAccess::check(const http::Request& request) const {
  const auto& id = request.params.at("id");
  if (auto token = request.query_param("token")) {
    if (auto holder = tokens_.check(*token, id, device::StreamPurpose::kPlay)) {
      // A person's role is theirs now; the operator's token watches as a viewer.
      return Grant{id,
                   *token,
                   {},
                   holder->subject,
                   holder->role.value_or(device::Role::kViewer),
                   holder->generation,
                   *token};
    }
    return Unexpected(http::error_response(401, "unauthenticated",
                                           "a valid play token for this device is needed"));
  }
  if (by_session_) {
    if (auto grant = by_session_(request, id)) return *grant;
    // Not signed in, or not theirs: the same answer, so nobody learns which devices exist.
    return Unexpected(http::error_response(404, "not_found", "no such device"));
  }
  return Unexpected(
      http::error_response(401, "unauthenticated", "a valid play token for this device is needed"));
}

}  // namespace nj::api
