#include "http/router.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <exception>

namespace nj::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  if (!path.empty() && path[0] == '/') i = 1;
  while (i <= path.size()) {
    const auto slash = path.find('/', i);
    const auto end = slash == std::string_view::npos ? path.size() : slash;
    out.push_back(path.substr(i, end - i));
    if (slash == std::string_view::npos) break;
    i = slash + 1;
  }
  return out;
}

bool is_param(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

struct Responder::State {
  Sink sink;
  std::atomic<bool> answered{false};
  ~State() {
    if (!answered.load()) {
      sink(error_response(500, "internal", "the handler did not answer"));
    }
  }
};

Responder::Responder(Sink sink) : state_(std::make_shared<State>()) {
  state_->sink = std::move(sink);
}

void Responder::operator()(Response response) const {
  if (state_->answered.exchange(true)) return;
  state_->sink(std::move(response));
}

Handler make_async(SyncHandler handler) {
  return [handler = std::move(handler)](Request& request, const Responder& respond) {
    try {
      respond(handler(request));
    } catch (const std::exception& e) {
      spdlog::error("http.handler_exception path={} what={}", request.path, e.what());
      respond(error_response(500, "internal", "internal error"));
    }
  };
}

void Router::add_route(Route route) {
  for (const auto& s : split_path(route.pattern)) route.segments.emplace_back(s);
  routes_.push_back(std::move(route));
}

void Router::add(Method method, std::string pattern, SyncHandler handler) {
  add_async(method, std::move(pattern), make_async(std::move(handler)));
}

void Router::add_async(Method method, std::string pattern, Handler handler) {
  add_route(Route{method, std::move(pattern), {}, std::move(handler), {}});
}

void Router::add_websocket(std::string pattern, WebSocketFactory factory) {
  add_route(Route{Method::kGet, std::move(pattern), {}, {}, std::move(factory)});
}

void Router::set_fallback(SyncHandler handler) { fallback_ = std::move(handler); }

Router::Match Router::match(Request& request, bool websocket_upgrade) const {
  if (request.path.empty() || request.path[0] != '/') return {Outcome::kBadPath, nullptr, {}};
  const auto parts = split_path(request.path);
  std::string allow;
  bool other_kind = false;  // the path exists, but as a WebSocket route for a plain request or v.v.
  for (const auto& route : routes_) {
    if (route.segments.size() != parts.size()) continue;
    bool ok = true;
    for (size_t i = 0; i < parts.size() && ok; ++i) {
      ok = is_param(route.segments[i]) ? !parts[i].empty() : route.segments[i] == parts[i];
    }
    if (!ok) continue;
    if (static_cast<bool>(route.websocket) != websocket_upgrade) {
      other_kind = true;
      continue;
    }
    const bool method_ok = route.method == request.method ||
                           (route.method == Method::kGet && request.method == Method::kHead);
    if (!method_ok) {
      if (!allow.empty()) allow += ", ";
      allow += method_name(route.method);
      continue;
    }
    request.params.clear();
    for (size_t i = 0; i < parts.size(); ++i) {
      if (!is_param(route.segments[i])) continue;
      auto decoded = url_decode(parts[i], false);
      if (!decoded) return {Outcome::kBadPath, nullptr, {}};
      const auto& s = route.segments[i];
      request.params.emplace(s.substr(1, s.size() - 2), std::move(*decoded));
    }
    return {Outcome::kMatched, &route, {}};
  }
  if (!allow.empty()) return {Outcome::kMethodNotAllowed, nullptr, std::move(allow)};
  if (other_kind) {
    return {websocket_upgrade ? Outcome::kNotWebSocket : Outcome::kUpgradeRequired, nullptr, {}};
  }
  if (fallback_ && !websocket_upgrade &&
      (request.method == Method::kGet || request.method == Method::kHead)) {
    return {Outcome::kFallback, nullptr, {}};
  }
  return {Outcome::kNotFound, nullptr, {}};
}

}  // namespace nj::http
