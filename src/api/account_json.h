// JSON shapes of account resources, shared by the auth and me handlers.
#pragma once

#include <nlohmann/json.hpp>

#include "account/service.h"
#include "common/time.h"

namespace nj::api {

inline std::string rfc3339_ms(int64_t unix_ms) {
  return format_rfc3339(SystemTime(std::chrono::milliseconds(unix_ms)));
}

inline nlohmann::json profile_json(const account::Profile& p) {
  return {{"id", p.id},
          {"email", p.email},
          {"display_name", p.display_name},
          {"language", p.language},
          {"email_verified", p.email_verified},
          {"totp_enabled", p.totp_enabled},
          {"created_at", rfc3339_ms(p.created_at)}};
}

}  // namespace nj::api
