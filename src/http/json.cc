#include "http/json.h"

namespace nj::http {

Result<nlohmann::json, Response> parse_json_body(const Request& request) {
  const auto type = request.headers.get("Content-Type").value_or("");
  const auto media = type.substr(0, type.find(';'));
  if (!iequals(media, "application/json")) {
    return Unexpected(
        error_response(415, "unsupported_media_type", "the body must be application/json"));
  }
  if (json_nesting_exceeds(request.body, kMaxJsonDepth)) {
    return Unexpected(error_response(400, "bad_json", "the JSON body is nested too deeply"));
  }
  auto parsed = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return Unexpected(error_response(400, "bad_json", "the body is not valid JSON"));
  }
  return parsed;
}

Response json_response(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.headers.set("Content-Type", "application/json");
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

}  // namespace nj::http
