#include "api/me.h"

#include "api/account_json.h"
#include "api/fields.h"
#include "common/qr.h"
#include "http/json.h"

namespace nj::api {
namespace {

using http::Method;
using http::Request;
using http::Response;
using nlohmann::json;
using Principal = account::Principal;

constexpr size_t kMaxPassword = 1024;

Response no_content() { return Response{204, {}, {}}; }

Response expire_cookies() {
  Response r = no_content();
  r.headers.add("Set-Cookie", "nj_session=; Path=/; SameSite=Strict; Max-Age=0; HttpOnly");
  r.headers.add("Set-Cookie", "nj_csrf=; Path=/; SameSite=Strict; Max-Age=0");
  return r;
}

}  // namespace

void MeApi::install(http::Router& router) {
  router.add_async(
      Method::kGet, "/api/v1/me", guard_.user([this](const Request&, const Principal& who) {
        auto p = accounts_.profile(who);
        if (!p) return account_error(p.error());
        auto body = profile_json(*p);
        if (ledger_) {
          const auto accepted = ledger_->accepted(who.user_id);
          body["policy"] = {{"accepted", accepted ? nlohmann::json(*accepted) : nullptr},
                            {"current", current_policy_},
                            {"must_accept", accepted != current_policy_}};
        }
        auto r = http::json_response(200, body);
        r.headers.set("Cache-Control", "no-store");
        return r;
      }));

  // The person accepts the policy now in force (asked at sign-in after it changed).
  router.add_async(Method::kPost, "/api/v1/me/policy",
                   guard_.user([this](const Request& r, const Principal& who) {
                     auto body = http::parse_json_body(r);
                     if (!body) return std::move(body).error();
                     auto version = string_field(*body, "version", 64, true);
                     if (!version) return std::move(version).error();
                     if (!ledger_ || **version != current_policy_) {
                       return http::error_response(409, "policy_version",
                                                   "that is not the policy now in force");
                     }
                     if (!ledger_->accept(who.user_id, **version)) {
                       return http::error_response(503, "unavailable", "try again");
                     }
                     return http::Response{204, {}, {}};
                   }));

  router.add_async(Method::kPatch, "/api/v1/me",
                   guard_.user([this](const Request& r, const Principal& who) {
                     auto body = http::parse_json_body(r);
                     if (!body) return std::move(body).error();
                     if (!body->is_object()) return invalid_field("", "the body must be an object");
                     for (const auto& [key, value] : body->items()) {
                       if (key != "display_name" && key != "language") {
                         return invalid_field(key, key + " cannot be changed here");
                       }
                     }
                     auto name = string_field(*body, "display_name", 100, false);
                     auto language = string_field(*body, "language", 16, false);
                     for (auto* f : {&name, &language}) {
                       if (!*f) return std::move(*f).error();
                     }
                     auto p = accounts_.update_profile(who, *name, *language);
                     if (!p) return account_error(p.error());
                     return http::json_response(200, profile_json(*p));
                   }));

  // Cancellation: re-authentication required; effective at once.
  router.add_async(Method::kDelete, "/api/v1/me",
                   guard_.user_on(pool_, [this](const Request& r, const Principal& who) {
                     auto body = http::parse_json_body(r);
                     if (!body) return std::move(body).error();
                     auto password = string_field(*body, "password", kMaxPassword, true);
                     auto totp = string_field(*body, "totp", 32, false);
                     for (auto* f : {&password, &totp}) {
                       if (!*f) return std::move(*f).error();
                     }
                     auto done = accounts_.cancel(who, **password, totp->value_or(""));
                     if (!done) return account_error(done.error());
                     return expire_cookies();
                   }));

  router.add_async(Method::kPost, "/api/v1/me/password",
                   guard_.user_on(pool_, [this](const Request& r, const Principal& who) {
                     auto body = http::parse_json_body(r);
                     if (!body) return std::move(body).error();
                     auto current = string_field(*body, "current_password", kMaxPassword, true);
                     auto next = string_field(*body, "new_password", kMaxPassword, true);
                     auto end_others = bool_field(*body, "end_other_sessions");
                     if (!current) return std::move(current).error();
                     if (!next) return std::move(next).error();
                     if (!end_others) return std::move(end_others).error();
                     // Other sessions end unless the person asks to keep them: whoever
                     // knew the old password is signed out with it.
                     auto done = accounts_.change_password(who, **current, **next,
                                                           end_others->value_or(true));
                     if (!done) return account_error(done.error());
                     return no_content();
                   }));

  router.add_async(Method::kGet, "/api/v1/me/sessions",
                   guard_.user([this](const Request&, const Principal& who) {
                     auto list = accounts_.sessions(who);
                     if (!list) return account_error(list.error());
                     json sessions = json::array();
                     for (const auto& s : *list) {
                       sessions.push_back({{"id", s.id},
                                           {"client", s.client},
                                           {"created_at", rfc3339_ms(s.created_at)},
                                           {"last_seen", rfc3339_ms(s.last_seen_at)},
                                           {"expires_at", rfc3339_ms(s.expires_at)},
                                           {"current", s.current}});
                     }
                     return http::json_response(200, {{"sessions", sessions}});
                   }));

  router.add_async(Method::kDelete, "/api/v1/me/sessions/{id}",
                   guard_.user([this](const Request& r, const Principal& who) {
                     auto done = accounts_.end_session(who, r.params.at("id"));
                     if (!done) return account_error(done.error());
                     return no_content();
                   }));

  router.add_async(Method::kPost, "/api/v1/me/sessions/end-others",
                   guard_.user([this](const Request&, const Principal& who) {
                     auto ended = accounts_.end_other_sessions(who);
                     if (!ended) return account_error(ended.error());
                     return http::json_response(200, {{"ended", *ended}});
                   }));

  router.add_async(Method::kPost, "/api/v1/me/totp",
                   guard_.user([this](const Request&, const Principal& who) {
                     auto enrol = accounts_.totp_begin(who);
                     if (!enrol) return account_error(enrol.error());
                     auto svg = qr_svg(enrol->otpauth_uri);
                     auto r = http::json_response(200, {{"secret", enrol->secret},
                                                        {"otpauth_uri", enrol->otpauth_uri},
                                                        {"qr_svg", svg.value_or("")}});
                     r.headers.set("Cache-Control", "no-store");
                     return r;
                   }));

  router.add_async(Method::kPost, "/api/v1/me/totp/confirm",
                   guard_.user([this](const Request& r, const Principal& who) {
                     auto body = http::parse_json_body(r);
                     if (!body) return std::move(body).error();
                     auto code = string_field(*body, "code", 32, true);
                     if (!code) return std::move(code).error();
                     auto codes = accounts_.totp_confirm(who, **code);
                     if (!codes) return account_error(codes.error());
                     auto response = http::json_response(200, {{"recovery_codes", *codes}});
                     response.headers.set("Cache-Control", "no-store");
                     return response;
                   }));

  router.add_async(Method::kDelete, "/api/v1/me/totp",
                   guard_.user_on(pool_, [this](const Request& r, const Principal& who) {
                     auto body = http::parse_json_body(r);
                     if (!body) return std::move(body).error();
                     auto password = string_field(*body, "password", kMaxPassword, true);
                     auto code = string_field(*body, "code", 32, true);
                     if (!password) return std::move(password).error();
                     if (!code) return std::move(code).error();
                     auto done = accounts_.totp_disable(who, **password, **code);
                     if (!done) return account_error(done.error());
                     return no_content();
                   }));
}

}  // namespace nj::api
