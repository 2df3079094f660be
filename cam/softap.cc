#include "softap.h"

#include <spdlog/spdlog.h>

#include "http/json.h"
#include "http/router.h"
#include "http/server.h"
#include "metrics/registry.h"
#include "net/io_pool.h"

namespace nj::cam {

struct SoftAp::Impl {
  nlohmann::json identity;
  std::mutex mu;
  std::condition_variable arrived;
  std::optional<Provision> provision;
  http::Router router;
  metrics::Registry metrics;
  std::unique_ptr<http::Server> server;
};

SoftAp::SoftAp(net::IoPool& pool, nlohmann::json identity) : impl_(std::make_unique<Impl>()) {
  impl_->identity = std::move(identity);
  Impl* impl = impl_.get();
  impl_->router.add(http::Method::kGet, "/", [impl](const http::Request&) {
    nlohmann::json out = impl->identity;
    std::lock_guard lock(impl->mu);
    out["provisioned"] = impl->provision.has_value();
    return http::json_response(200, out);
  });
  impl_->router.add(http::Method::kPost, "/provision", [impl](const http::Request& r) {
    auto payload = parse_provision(r.body);
    if (!payload) return http::error_response(400, "invalid_payload", payload.error());
    {
      std::lock_guard lock(impl->mu);
      if (impl->provision) {
        return http::error_response(409, "provisioned", "this camera has its payload already");
      }
      impl->provision = *payload;
    }
    impl->arrived.notify_all();
    spdlog::info("cam.softap.provisioned server={} wifi_ssid=\"{}\"", payload->server,
                 payload->wifi_ssid);
    return http::json_response(200, {{"serial", impl->identity.value("serial", "")}});
  });
  http::ServerLimits limits;
  limits.body_limit = 4096;  // a payload is a few hundred bytes
  limits.max_connections = 16;
  impl_->server = std::make_unique<http::Server>(pool, impl_->router, impl_->metrics, limits);
}

SoftAp::~SoftAp() = default;  // the server stops accepting

Result<uint16_t, std::string> SoftAp::listen(const std::string& host, uint16_t port) {
  return impl_->server->listen(host, port);
}

void SoftAp::close() { impl_->server->stop(); }

std::optional<Provision> SoftAp::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  impl_->arrived.wait_for(lock, timeout, [this] { return impl_->provision.has_value(); });
  return impl_->provision;
}

}  // namespace nj::cam
