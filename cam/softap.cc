#include "softap.h"

#include <spdlog/spdlog.h>

#include "device_protocol/provision.h"
#include "http/json.h"
#include "http/router.h"
#include "http/server.h"
#include "metrics/registry.h"
#include "net/io_pool.h"

namespace nj::cam {

struct SoftAp::Impl {
  nlohmann::json identity;
  std::string pairing_code;
  std::mutex mu;
  // Wrong proofs: five in a row lock the endpoint, 30 s doubling up to 15 min (a 40-bit
  // code is out of reach of guessing at that pace).
  int wrong = 0, locks = 0;
  std::chrono::steady_clock::time_point locked_until{};
  std::condition_variable arrived;
  std::optional<Provision> provision;
  http::Router router;
  metrics::Registry metrics;
  std::unique_ptr<http::Server> server;
};

SoftAp::SoftAp(net::IoPool& pool, nlohmann::json identity, std::string pairing_code)
    : impl_(std::make_unique<Impl>()) {
  impl_->identity = std::move(identity);
  impl_->pairing_code = std::move(pairing_code);
  Impl* impl = impl_.get();
  impl_->router.add(http::Method::kGet, "/", [impl](const http::Request&) {
    nlohmann::json out = impl->identity;
    std::lock_guard lock(impl->mu);
    out["provisioned"] = impl->provision.has_value();
    return http::json_response(200, out);
  });
  impl_->router.add(http::Method::kPost, "/provision", [impl](const http::Request& r) {
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(impl->mu);
      if (now < impl->locked_until) {
        const auto wait =
            std::chrono::duration_cast<std::chrono::seconds>(impl->locked_until - now).count() + 1;
        auto refused = http::error_response(
            429, "locked_out",
            "too many wrong pairing codes; try again in " + std::to_string(wait) + " s");
        refused.headers.set("Retry-After", std::to_string(wait));
        return refused;
      }
    }
    auto request = device_protocol::parse_provision_request(r.body);
    if (!request) {
      return http::error_response(400, "invalid_payload",
                                  "send {\"payload\", \"proof\"}: " + request.error().message);
    }
    if (!device_protocol::proof_matches(impl->pairing_code, request->payload, request->proof)) {
      std::lock_guard lock(impl->mu);
      if (++impl->wrong >= 5) {
        impl->wrong = 0;
        const auto lock_for = std::chrono::seconds(int64_t{30} << std::min(impl->locks, 5));
        impl->locked_until =
            now + std::min<std::chrono::seconds>(lock_for, std::chrono::minutes(15));
        ++impl->locks;
      }
      spdlog::warn("cam.softap.wrong_proof");
      return http::error_response(403, "wrong_pairing_code",
                                  "the proof does not match this camera's pairing code");
    }
    auto payload = parse_provision(request->payload);
    if (!payload) return http::error_response(400, "invalid_payload", payload.error());
    {
      std::lock_guard lock(impl->mu);
      if (impl->provision) {
        return http::error_response(409, "provisioned", "this camera has its payload already");
      }
      impl->wrong = 0;
      impl->provision = *payload;
    }
    impl->arrived.notify_all();
    spdlog::info("cam.softap.provisioned server={} wifi_ssid=\"{}\"", payload->server,
                 payload->wifi_ssid);
    return http::json_response(200, {{"serial", impl->identity.value("serial", "")}});
  });
  http::ServerLimits limits;
  limits.body_limit = device_protocol::kMaxProvisionBytes;  // a payload is a few hundred bytes
  limits.max_connections = 16;
  limits.max_connections_per_address = 4;         // a phone needs one or two
  limits.idle_timeout = std::chrono::seconds(5);  // idle connections go quickly
  limits.request_timeout = std::chrono::seconds(5);
  limits.max_anonymous_websockets = 0;
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
