// POST /api/v1/client-errors: the web app reports its own uncaught errors to its own server
// (instead of a third-party crash-reporting SDK). Reports are validated, rate-limited,
// counted and logged without the reporter's address.
#pragma once

#include <chrono>
#include <mutex>

#include "http/router.h"
#include "metrics/registry.h"

namespace nj::api {

class ClientErrorsApi {
 public:
  struct Limits {
    double reports_per_second = 5;
    double burst = 20;
  };
  ClientErrorsApi(metrics::Registry& metrics, Limits limits);
  void install(http::Router& router);
  http::Response handle(const http::Request& request);

 private:
  bool take_token();
  metrics::Counter& accepted_;
  metrics::Counter& dropped_;
  Limits limits_;
  std::mutex mu_;
  double tokens_;
  std::chrono::steady_clock::time_point refilled_ = std::chrono::steady_clock::now();
};

}  // namespace nj::api
