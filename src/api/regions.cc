#include "api/regions.h"

#include <nlohmann/json.hpp>

#include "api/account_json.h"
#include "api/fields.h"
#include "http/json.h"

namespace nj::api {

using nlohmann::json;

namespace {

json move_json(const privacy::RegionMove& m) {
  return {{"id", m.id},
          {"from", m.from},
          {"to", m.to},
          {"state", m.state},
          {"consented_at", rfc3339_ms(m.consented_at)},
          {"done_at", m.done_at ? json(rfc3339_ms(*m.done_at)) : json(nullptr)}};
}

}  // namespace

void RegionsApi::install(http::Router& router) {
  router.add(http::Method::kGet, "/api/v1/regions", [this](const http::Request&) {
    json list = json::array();
    for (const auto& r : regions_.all()) list.push_back({{"id", r.id}, {"name", r.name}});
    return http::json_response(200, {{"regions", list}, {"default", regions_.default_region().id}});
  });
  router.add_async(http::Method::kGet, "/api/v1/me/region",
                   guard_.user([this](const http::Request&, const account::Principal& who) {
                     json moves = json::array();
                     for (const auto& m : regions_.moves_of(who.user_id))
                       moves.push_back(move_json(m));
                     return no_store(http::json_response(
                         200, {{"region", regions_.of_user(who.user_id)}, {"moves", moves}}));
                   }));
  router.add_async(
      http::Method::kPost, "/api/v1/me/region",
      guard_.user([this](const http::Request& r, const account::Principal& who) {
        auto body = http::parse_json_body(r);
        if (!body) return std::move(body).error();
        auto region = string_field(*body, "region", 32, true);
        if (!region) return std::move(region).error();
        // Data moves between regions only with the person's explicit word for it.
        const auto consent = body->find("consent");
        if (consent == body->end() || !consent->is_boolean() || !consent->get<bool>()) {
          return http::error_response(400, "consent_required",
                                      "moving your data to another region needs your consent");
        }
        if (!regions_.find(**region)) {
          return http::error_response(400, "unknown_region", "no such region");
        }
        auto move = regions_.move(who.user_id, **region);
        if (!move) {
          return http::error_response(409, "region_unchanged", "your data is in that region");
        }
        return no_store(http::json_response(202, move_json(*move)));
      }));
}

}  // namespace nj::api
