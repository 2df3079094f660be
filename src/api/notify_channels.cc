#include "api/notify_channels.h"

#include "api/account_json.h"
#include "api/fields.h"
#include "http/json.h"

namespace nj::api {
namespace {

using http::Method;
using http::Request;
using http::Response;
using nlohmann::json;

json time_or_null(int64_t ms) { return ms == 0 ? json(nullptr) : json(rfc3339_ms(ms)); }

}  // namespace

json NotifyChannelsApi::webhook_json(const notify::Webhook& w) const {
  return {{"id", w.id},
          {"url", w.url},
          {"secret", webhooks_.secret(w.id)},
          {"created_at", rfc3339_ms(w.created_at)},
          {"last_status", w.last_at == 0 ? json(nullptr) : json(w.last_status)},
          {"last_at", time_or_null(w.last_at)}};
}

json NotifyChannelsApi::mqtt_json(const std::string& user_id) {
  const std::string root = notify::home_root(user_id);
  return {{"enabled", home_.enabled(user_id)},
          {"username", notify::home_username(user_id)},
          {"broker", broker_.mqtts_url.empty() ? broker_.mqtt_url : broker_.mqtts_url},
          {"broker_plain", broker_.mqtt_url},
          {"topic_root", root},
          {"events_topic", root + "events"},
          {"discovery_prefix", root + "homeassistant"}};
}

void NotifyChannelsApi::install(http::Router& router) {
  router.add_async(
      Method::kGet, "/api/v1/me/webhooks",
      guard_.user([this](const Request&, const account::Principal& who) {
        json hooks = json::array();
        for (const auto& w : webhooks_.of(who.user_id)) {
          hooks.push_back(webhook_json(w));
        }
        json failures = json::array();
        for (const auto& f : webhooks_.failures(who.user_id)) {
          const auto body = json::parse(f.payload, nullptr, false);
          failures.push_back({{"id", f.id},
                              {"webhook_id", f.webhook_id},
                              {"url", f.url},
                              {"attempts", f.attempts},
                              {"last_status", f.last_status},
                              {"failed_at", rfc3339_ms(f.failed_at)},
                              {"notification", body.is_object() && body.contains("notification")
                                                   ? body["notification"]
                                                   : json(nullptr)}});
        }
        return no_store(http::json_response(200, {{"webhooks", hooks}, {"failures", failures}}));
      }));

  router.add_async(Method::kPost, "/api/v1/me/webhooks",
                   guard_.user([this](const Request& r, const account::Principal& who) {
                     auto body = http::parse_json_body(r);
                     if (!body) return std::move(body).error();
                     if (!body->is_object()) return invalid_field("url", "the body is {\"url\"}");
                     auto url = string_field(*body, "url", 2048, true);
                     if (!url) return std::move(url).error();
                     if (auto error = notify::webhook_url_error(**url)) {
                       return invalid_field("url", *error);
                     }
                     // Said now rather than by a delivery that never goes.
                     if (!allow_private_ && notify::names_private_host(**url)) {
                       return invalid_field("url",
                                            "a public address: this server does not post to "
                                            "its own or private networks");
                     }
                     auto added = webhooks_.add(who.user_id, **url);
                     if (!added) return http::error_response(409, "too_many", added.error());
                     return no_store(http::json_response(201, webhook_json(*added)));
                   }));

  router.add_async(Method::kDelete, "/api/v1/me/webhooks/{id}",
                   guard_.user([this](const Request& r, const account::Principal& who) {
                     if (!webhooks_.remove(who.user_id, r.params.at("id"))) {
                       return http::error_response(404, "not_found", "no such webhook");
                     }
                     return Response{204, {}, {}};
                   }));

  router.add_async(Method::kPost, "/api/v1/me/webhook-failures/{id}/retry",
                   guard_.user([this](const Request& r, const account::Principal& who) {
                     auto f = webhooks_.take_failure(who.user_id, r.params.at("id"));
                     if (!f) return http::error_response(404, "not_found", "no such delivery");
                     if (!webhook_channel_.redeliver(*f)) {
                       return http::error_response(404, "not_found", "its webhook is gone");
                     }
                     return http::json_response(202, {{"retrying", f->id}});
                   }));

  router.add_async(Method::kDelete, "/api/v1/me/webhook-failures",
                   guard_.user([this](const Request&, const account::Principal& who) {
                     webhooks_.clear_failures(who.user_id);
                     return Response{204, {}, {}};
                   }));

  router.add_async(Method::kGet, "/api/v1/me/mqtt",
                   guard_.user([this](const Request&, const account::Principal& who) {
                     return no_store(http::json_response(200, mqtt_json(who.user_id)));
                   }));

  router.add_async(Method::kPost, "/api/v1/me/mqtt",
                   guard_.user([this](const Request&, const account::Principal& who) {
                     auto password = home_.enable(who.user_id);
                     if (!password) {
                       return http::error_response(500, "internal", "could not be turned on");
                     }
                     json out = mqtt_json(who.user_id);
                     out["password"] = *password;  // shown this once; a reset makes a new one
                     return no_store(http::json_response(201, out));
                   }));

  router.add_async(Method::kDelete, "/api/v1/me/mqtt",
                   guard_.user([this](const Request&, const account::Principal& who) {
                     home_.disable(who.user_id);
                     return Response{204, {}, {}};
                   }));
}

}  // namespace nj::api
