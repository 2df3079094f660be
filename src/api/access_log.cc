#include "api/access_log.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "api/account_json.h"
#include "api/devices.h"
#include "api/fields.h"
#include "http/json.h"

namespace nj::api {

using nlohmann::json;

void AccessLogApi::install(http::Router& router) {
  router.add_async(
      http::Method::kGet, "/api/v1/devices/{id}/access-log",
      [this](http::Request& r, const http::Responder& respond) {
        auto owned = device_for(guard_, devices_, r, respond, device::Role::kOwner);
        if (!owned) return;
        int64_t before = 0;
        if (auto b = r.query_param("before")) {
          const auto [end, ec] = std::from_chars(b->data(), b->data() + b->size(), before);
          if (ec != std::errc() || end != b->data() + b->size() || before < 1) {
            return respond(invalid_field("before", "a row number"));
          }
        }
        const size_t limit = 100;
        const auto me = guard_.identify(r);
        const auto my_actor = me ? log_.actor_of(me->user_id) : std::string();
        json list = json::array();
        int64_t last = 0;
        for (const auto& e :
             log_.of_device(owned->device.id, owned->device.binding_generation, before, limit)) {
          json detail = json::parse(e.record.detail, nullptr, false);
          json who = nullptr;  // someone whose account is gone: the log no longer names them
          if (e.record.actor == "operator") {
            who = "operator";
          } else if (e.email) {
            who = *e.email;
          }
          list.push_back({{"seq", e.seq},
                          {"at", rfc3339_ms(e.at_ms)},
                          {"kind", e.record.kind},
                          {"who", who},
                          {"you", !my_actor.empty() && e.record.actor == my_actor},
                          {"session", e.record.session},
                          {"detail", detail.is_object() ? detail : json::object()}});
          last = e.seq;
        }
        json out = {{"entries", list}};
        out["next_before"] = list.size() == limit ? json(last) : json(nullptr);
        respond(no_store(http::json_response(200, out)));
      });
}

}  // namespace nj::api
