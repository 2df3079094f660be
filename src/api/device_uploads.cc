#include "api/device_uploads.h"

#include <algorithm>
#include <cctype>

#include "api/guard.h"
#include "device_protocol/topics.h"
#include "http/json.h"
#include "media/sdp/sdp.h"

namespace nj::api {

std::optional<std::pair<std::string, std::string>> basic_credentials(std::string_view header) {
  constexpr std::string_view kScheme = "Basic ";
  if (header.size() > 512 || header.size() <= kScheme.size()) return std::nullopt;
  if (!std::equal(kScheme.begin(), kScheme.end(), header.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    return std::nullopt;
  }
  auto decoded = media::sdp::base64_decode(header.substr(kScheme.size()));
  if (!decoded) return std::nullopt;
  const std::string text(decoded->begin(), decoded->end());
  const size_t colon = text.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::pair{text.substr(0, colon), text.substr(colon + 1)};
}

void DeviceUploadsApi::install(http::Router& router) {
  router.add_async(
      http::Method::kPut, "/api/v1/device/events/{id}/snapshot.jpg",
      on_pool(workers_, [this](const http::Request& r) {
        const auto credentials = basic_credentials(r.headers.get("Authorization").value_or(""));
        if (!credentials || !device_protocol::valid_serial(credentials->first) ||
            !registry_.check_secret(credentials->first, credentials->second)) {
          count_("unauthorized");
          auto refused = http::error_response(401, "unauthorized", "the device's credentials");
          refused.headers.set("WWW-Authenticate", "Basic realm=\"nightjar-device\"");
          return refused;
        }
        using U = events::CameraSnapshotTaker::Upload;
        switch (snapshots_.upload(credentials->first, r.params.at("id"), r.body)) {
          case U::kTaken:
            count_("taken");
            return http::Response{204, {}, {}};
          case U::kNotAsked:
            count_("not_asked");
            return http::error_response(404, "not_found",
                                        "no picture of that event was asked of this camera");
          case U::kTooLarge:
            count_("too_large");
            return http::error_response(413, "too_large", "at most 512 KB");
          case U::kNotJpeg:
            count_("not_jpeg");
            return http::error_response(415, "not_jpeg", "the picture must be a JPEG");
        }
        return http::error_response(500, "internal", "unexpected");
      }));
}

}  // namespace nj::api
