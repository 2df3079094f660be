// What the parts of the server that open a camera's video or pictures, or change who may,
// tell the access transparency log (audit_log.h). Header only: the HTTP APIs call a Trail
// without depending on the log itself.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace nj::audit {

struct Access {
  std::string kind;    // live, playback, export, snapshot, talk, sd_playback, share.*
  std::string serial;  // the camera, by serial or by id (one is enough)
  std::string device_id;
  std::string user_id;     // the person; "" for the operator
  std::string session_id;  // their session, or the token they used
  std::string detail;      // a small JSON object without personal data, or ""
  // The camera's binding when it was opened, if the caller knows it: the row then belongs to
  // that binding even if the camera changes hands before it is written.
  std::optional<int64_t> generation;
};
using Trail = std::function<void(const Access&)>;

}  // namespace nj::audit
