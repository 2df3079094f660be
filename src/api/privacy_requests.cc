#include "api/privacy_requests.h"

#include <nlohmann/json.hpp>

#include "api/account_json.h"
#include "api/fields.h"
#include "http/json.h"

namespace nj::api {

using nlohmann::json;

namespace {

json request_json(const privacy::Request& q) {
  return {{"id", q.id},
          {"kind", q.kind},
          {"text", q.body},
          {"created_at", rfc3339_ms(q.created_at)},
          {"due", rfc3339_ms(q.due_at)},
          {"status", q.status},
          {"answer", q.answered_at ? json(q.answer) : json(nullptr)},
          {"answered_at", q.answered_at ? json(rfc3339_ms(*q.answered_at)) : json(nullptr)}};
}

}  // namespace

void PrivacyRequestsApi::install(http::Router& router) {
  router.add_async(
      http::Method::kPost, "/api/v1/me/requests",
      guard_.user([this](const http::Request& r, const account::Principal& who) {
        auto body = http::parse_json_body(r);
        if (!body) return std::move(body).error();
        auto kind = string_field(*body, "kind", 16, true);
        if (!kind) return std::move(kind).error();
        auto text = string_field(*body, "text", privacy::kMaxRequestBytes, true);
        if (!text) return std::move(text).error();
        auto filed = requests_.file(who.user_id, **kind, **text);
        if (!filed) {
          switch (filed.error()) {
            case privacy::FileError::kBadKind:
              return invalid_field("kind", "access, correction, deletion, complaint or question");
            case privacy::FileError::kBadBody:
              return invalid_field("text", "1 to 4000 bytes");
            case privacy::FileError::kTooMany:
              return http::error_response(429, "too_many_requests",
                                          "ten requests are open already: wait for their answers");
            case privacy::FileError::kStore:
              break;
          }
          return http::error_response(503, "unavailable", "try again");
        }
        return no_store(http::json_response(201, request_json(*filed)));
      }));
  router.add_async(http::Method::kGet, "/api/v1/me/requests",
                   guard_.user([this](const http::Request&, const account::Principal& who) {
                     json list = json::array();
                     for (const auto& q : requests_.of_user(who.user_id)) {
                       list.push_back(request_json(q));
                     }
                     return no_store(http::json_response(200, {{"requests", list}}));
                   }));
}

}  // namespace nj::api
