#include "api/broker_hook.h"

#include "account/crypto.h"
#include "device_protocol/json_input.h"
#include "device_protocol/topics.h"
#include "http/json.h"

namespace nj::api {

BrokerHookApi::BrokerHookApi(std::string token, CameraOf camera_of, metrics::Registry& metrics)
    : token_(std::move(token)), camera_of_(std::move(camera_of)), metrics_(metrics) {
  metrics_.counter("nightjar_broker_hook_total",
                   "Questions a broker asked through the hook, by kind and answer.",
                   {"kind", "result"});
}

void BrokerHookApi::install(http::Router& router) {
  router.add(http::Method::kPost, "/api/v1/broker/auth",
             [this](const http::Request& r) { return auth(r); });
  router.add(http::Method::kPost, "/api/v1/broker/acl",
             [this](const http::Request& r) { return acl(r); });
}

bool BrokerHookApi::from_the_broker(const http::Request& request) const {
  const auto header = request.headers.get("Authorization");
  if (!header || header->size() <= 7 || !http::iequals(header->substr(0, 7), "Bearer ")) {
    return false;
  }
  return !token_.empty() && account::constant_time_equal(header->substr(7), token_);
}

http::Response BrokerHookApi::answer(const char* kind, const char* result) {
  metrics_.counter("nightjar_broker_hook_total", "", {"kind", "result"}).with({kind, result}).inc();
  return http::json_response(200, {{"result", result}});
}

Result<nlohmann::json, http::Response> BrokerHookApi::question(const http::Request& request) const {
  if (!from_the_broker(request)) {
    return Unexpected(
        http::error_response(401, "unauthorized", "the broker's hook token is required"));
  }
  auto body = http::parse_json_body(request);
  if (!body) return body;
  if (!body->is_object()) {
    return Unexpected(http::error_response(400, "invalid_field", "the body must be an object"));
  }
  return body;
}

http::Response BrokerHookApi::auth(const http::Request& request) {
  auto body = question(request);
  if (!body) return std::move(body).error();
  device_protocol::ObjectReader in(*body);
  const auto username = in.string("username", 256, true);
  const auto password = in.string("password", 1024, true, true);
  if (!username || !password) {
    return http::error_response(400, "invalid_field", "username and password must be strings");
  }
  if (!device_protocol::valid_serial(*username)) return answer("auth", "ignore");
  const auto camera = camera_of_(*username);
  if (!camera) return answer("auth", "ignore");
  const bool allowed = camera->enabled && !camera->secret.empty() &&
                       account::constant_time_equal(*password, camera->secret);
  return answer("auth", allowed ? "allow" : "deny");
}

http::Response BrokerHookApi::acl(const http::Request& request) {
  auto body = question(request);
  if (!body) return std::move(body).error();
  device_protocol::ObjectReader in(*body);
  const auto username = in.string("username", 256, true);
  const auto topic = in.string("topic", 65535, true, true);
  const auto action = in.string("action", 16, true);
  using device_protocol::DeviceAccess;
  std::optional<DeviceAccess> access;
  if (action == "publish") access = DeviceAccess::kPublish;
  if (action == "subscribe" || action == "read") access = DeviceAccess::kSubscribe;
  if (!username || !topic || !access) {
    return http::error_response(
        400, "invalid_field",
        "username and topic must be strings, action publish, subscribe or read");
  }
  if (!device_protocol::valid_serial(*username)) return answer("acl", "ignore");
  const auto camera = camera_of_(*username);
  if (!camera) return answer("acl", "ignore");
  // A camera disabled since it connected may do nothing more (the broker asks per message
  // when its own cache of answers is off).
  const bool allowed = camera->enabled && device_protocol::device_may(*username, *topic, *access);
  return answer("acl", allowed ? "allow" : "deny");
}

}  // namespace nj::api
