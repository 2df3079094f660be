// Operations routes: GET /healthz (is this node able to serve?), GET /metrics (Prometheus
// text), and the live health feed the web app's home page shows (WebSocket).
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "http/router.h"
#include "metrics/registry.h"
#include "store/database.h"

namespace nj::api {

struct BuildInfo {
  std::string version;
  std::string instance_id;  // this installation's stable id
};

class HealthApi {
 public:
  HealthApi(store::Database& db, metrics::Registry& metrics, BuildInfo build);
  void install(http::Router& router);

  // The health document: status, version, instance, uptime, time, database check.
  // Second: whether every check passed.
  std::pair<nlohmann::json, bool> snapshot() const;

 private:
  store::Database& db_;
  metrics::Registry& metrics_;
  BuildInfo build_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace nj::api
