#include "api/health.h"

#include "common/time.h"
#include "http/json.h"

namespace nj::api {
namespace {

using nlohmann::json;

// One WebSocket client of the live health feed: each {"type":"health"} it sends is answered
// with the current health document; it also gets one on connect.
class HealthFeed final : public http::WebSocketHandler {
 public:
  HealthFeed(const HealthApi& api, std::shared_ptr<http::WebSocketPeer> peer)
      : api_(api), peer_(std::move(peer)) {}

  void on_open() override { send_health(); }

  void on_message(std::string_view data, bool binary) override {
    auto message = json::parse(data, nullptr, false);
    if (binary || message.is_discarded() || !message.is_object() ||
        message.value("type", "") != "health") {
      peer_->send(
          json{{"type", "error"},
               {"error", {{"code", "bad_message"}, {"message", R"(send {"type":"health"})"}}}}
              .dump(),
          false);
      return;
    }
    send_health();
  }

 private:
  void send_health() {
    auto [doc, ok] = api_.snapshot();
    doc["type"] = "health";
    peer_->send(doc.dump(), false);
  }
  const HealthApi& api_;
  std::shared_ptr<http::WebSocketPeer> peer_;
};

}  // namespace

HealthApi::HealthApi(store::Database& db, metrics::Registry& metrics, BuildInfo build)
    : db_(db), metrics_(metrics), build_(std::move(build)) {}

std::pair<json, bool> HealthApi::snapshot() const {
  const auto uptime = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_);
  json database;
  auto probe = db_.query("SELECT COALESCE(MAX(version), 0) FROM schema_version");
  const bool db_ok = probe.has_value();
  if (db_ok) {
    database = {{"ok", true}, {"schema_version", probe->at(0).integer(0)}};
  } else {
    database = {{"ok", false}, {"error", probe.error().message}};
  }
  json doc = {
      {"status", db_ok ? "ok" : "degraded"},
      {"version", build_.version},
      {"instance", build_.instance_id},
      {"uptime_seconds", std::floor(uptime.count() * 1000) / 1000},
      {"time", format_rfc3339(std::chrono::time_point_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now()))},
      {"database", database},
  };
  return {doc, db_ok};
}

void HealthApi::install(http::Router& router) {
  router.add(http::Method::kGet, "/healthz", [this](const http::Request&) {
    auto [doc, ok] = snapshot();
    auto r = http::json_response(ok ? 200 : 503, doc);
    r.headers.set("Cache-Control", "no-store");
    return r;
  });
  router.add(http::Method::kGet, "/metrics", [this](const http::Request&) {
    auto r =
        http::text_response(200, metrics_.render(), "text/plain; version=0.0.4; charset=utf-8");
    r.headers.set("Cache-Control", "no-store");
    return r;
  });
  router.add_websocket("/api/v1/health/live", [this](const http::Request&,
                                                     std::shared_ptr<http::WebSocketPeer> peer) {
    // Public: anyone may watch the health feed, within the anonymous WebSocket limits.
    return http::WebSocketAccept{std::make_shared<HealthFeed>(*this, std::move(peer)), {}, true};
  });
}

}  // namespace nj::api
