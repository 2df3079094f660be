#include "api/client_errors.h"

#include <spdlog/spdlog.h>

#include "http/json.h"

namespace nj::api {

ClientErrorsApi::ClientErrorsApi(metrics::Registry& metrics, Limits limits)
    : accepted_(metrics
                    .counter("nightjar_web_client_errors_total", "Errors reported by the web app.",
                             {"outcome"})
                    .with({"accepted"})),
      dropped_(metrics.counter("nightjar_web_client_errors_total", "", {"outcome"})
                   .with({"rate_limited"})),
      limits_(limits),
      tokens_(limits.burst) {}

void ClientErrorsApi::install(http::Router& router) {
  router.add(http::Method::kPost, "/api/v1/client-errors",
             [this](const http::Request& r) { return handle(r); });
}

bool ClientErrorsApi::take_token() {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - refilled_).count();
  refilled_ = now;
  tokens_ = std::min(limits_.burst, tokens_ + elapsed * limits_.reports_per_second);
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

http::Response ClientErrorsApi::handle(const http::Request& request) {
  auto body = http::parse_json_body(request);
  if (!body) return std::move(body).error();
  const auto& j = *body;
  auto field = [&](const char* name, size_t max) -> std::optional<std::string> {
    if (!j.contains(name)) return std::string();
    if (!j[name].is_string() || j[name].get_ref<const std::string&>().size() > max) {
      return std::nullopt;
    }
    return j[name].get<std::string>();
  };
  if (!j.is_object() || !j.contains("message")) {
    return http::error_response(400, "invalid_field", "\"message\" is required");
  }
  const auto message = field("message", 2000);
  const auto source = field("source", 500);
  const auto stack = field("stack", 8000);
  if (!message || !source || !stack || message->empty()) {
    return http::error_response(400, "invalid_field",
                                "message (≤2000), source (≤500) and stack (≤8000) must be strings");
  }
  if (!take_token()) {
    dropped_.inc();
    return http::error_response(429, "rate_limited", "too many error reports; try later");
  }
  accepted_.inc();
  spdlog::warn("web.client_error message=\"{}\" source=\"{}\"", message->substr(0, 300),
               source->substr(0, 200));
  return http::Response{204, {}, {}};
}

}  // namespace nj::api
