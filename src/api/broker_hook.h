// The cameras' logins for a broker Nightjar does not run (issue #17, docs/architecture.md
// "The broker at scale"): a clustered broker (EMQX 5, say) asks any node over HTTP whether a
// login may connect (POST /api/v1/broker/auth) and whether it may publish or subscribe to a
// topic (POST /api/v1/broker/acl), instead of being given every camera's login in advance.
// The broker authenticates itself with a bearer token of its own ([mqtt] hook_token_file).
// Answers are EMQX 5's: 200 {"result": "allow" | "deny" | "ignore"}; "ignore" for a login
// that is no camera (the servers' own), which the broker's own user database then decides.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/result.h"
#include "http/router.h"
#include "metrics/registry.h"

namespace nj::api {

class BrokerHookApi {
 public:
  struct Camera {
    std::string secret;  // its current MQTT password
    bool enabled = true;
  };
  // The camera a login names (nullopt: none has that serial).
  using CameraOf = std::function<std::optional<Camera>(const std::string& serial)>;

  BrokerHookApi(std::string token, CameraOf camera_of, metrics::Registry& metrics);
  void install(http::Router& router);
  http::Response auth(const http::Request& request);
  http::Response acl(const http::Request& request);

 private:
  bool from_the_broker(const http::Request& request) const;
  // The body of a question from the broker: its token checked, a JSON object.
  Result<nlohmann::json, http::Response> question(const http::Request& request) const;
  http::Response answer(const char* kind, const char* result);

  std::string token_;
  CameraOf camera_of_;
  metrics::Registry& metrics_;
};

}  // namespace nj::api
