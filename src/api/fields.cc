#include "api/fields.h"

#include "http/json.h"

namespace nj::api {

http::Response invalid_field(const std::string& name, const std::string& message) {
  return http::json_response(
      400, {{"error", {{"code", "invalid_field"}, {"message", message}, {"field", name}}}});
}

Result<std::optional<std::string>, http::Response> string_field(const nlohmann::json& body,
                                                                const char* name, size_t max,
                                                                bool required) {
  if (!body.is_object()) return Unexpected(invalid_field("", "the body must be a JSON object"));
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    if (required) return Unexpected(invalid_field(name, std::string(name) + " is required"));
    return std::optional<std::string>();
  }
  if (!it->is_string()) {
    return Unexpected(invalid_field(name, std::string(name) + " must be a string"));
  }
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max) {
    return Unexpected(invalid_field(
        name, std::string(name) + " must be at most " + std::to_string(max) + " bytes"));
  }
  return std::optional<std::string>(s);
}

Result<std::optional<bool>, http::Response> bool_field(const nlohmann::json& body,
                                                       const char* name) {
  if (!body.is_object()) return Unexpected(invalid_field("", "the body must be a JSON object"));
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::optional<bool>();
  if (!it->is_boolean()) {
    return Unexpected(invalid_field(name, std::string(name) + " must be true or false"));
  }
  return std::optional<bool>(it->get<bool>());
}

http::Response no_store(http::Response r) {
  r.headers.set("Cache-Control", "no-store");
  return r;
}

http::Response storage_unavailable() {
  auto r = http::error_response(503, "storage_unavailable",
                                "the storage cannot be reached just now; try again shortly");
  r.headers.set("Retry-After", "5");
  return r;
}

}  // namespace nj::api
