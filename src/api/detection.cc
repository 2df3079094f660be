#include "api/detection.h"

#include "api/devices.h"
#include "api/fields.h"
#include "http/json.h"

namespace nj::api {

void DetectionApi::install(http::Router& router) {
  router.add_async(
      http::Method::kGet, "/api/v1/devices/{id}/detection",
      guard_.user([this](const http::Request& r, const account::Principal& who) {
        auto owned = devices_.get(who.user_id, r.params.at("id"));
        if (!owned) return device_error(owned.error());
        if (owned->role < device::Role::kAdmin) {
          return http::error_response(403, "forbidden", "detection is the owner's to set");
        }
        return no_store(http::json_response(200, detect::to_json(store_.get(owned->device.id))));
      }));

  router.add_async(
      http::Method::kPatch, "/api/v1/devices/{id}/detection",
      guard_.user([this](const http::Request& r, const account::Principal& who) {
        auto owned = devices_.get(who.user_id, r.params.at("id"));
        if (!owned) return device_error(owned.error());
        if (owned->role < device::Role::kAdmin) {
          return http::error_response(403, "forbidden", "detection is the owner's to set");
        }
        auto body = http::parse_json_body(r);
        if (!body) return std::move(body).error();
        if (!body->is_object()) return invalid_field("", "the body must be an object");
        // The change laid over what is set, then read as a whole (so it is checked whole).
        auto merged = detect::to_json(store_.get(owned->device.id));
        for (const auto& [key, value] : body->items()) merged[key] = value;
        auto settings = detect::read_detection(merged);
        if (!settings) return invalid_field(settings.error().field, settings.error().message);
        if (!store_.save(owned->device.id, *settings)) {
          return http::error_response(500, "internal", "the settings could not be saved");
        }
        if (changed_) changed_();
        return no_store(http::json_response(200, detect::to_json(*settings)));
      }));
}

}  // namespace nj::api
