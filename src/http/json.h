// JSON bodies for handlers: parsing that never throws and never recurses without bound,
// and responses with the right content type.
#pragma once

#include <nlohmann/json.hpp>

#include "common/json_depth.h"
#include "common/result.h"
#include "http/message.h"

namespace nj::http {

inline constexpr int kMaxJsonDepth = 64;

// The body as JSON, or the error response to send: 415 for a non-JSON content type,
// 400 "bad_json" for malformed or too deeply nested JSON.
Result<nlohmann::json, Response> parse_json_body(const Request& request);

Response json_response(int status, const nlohmann::json& body);

// Nesting is checked before parsing (common/json_depth.h).
using nj::json_nesting_exceeds;

}  // namespace nj::http
