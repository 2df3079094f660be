#include "api/auth.h"

#include <cctype>
#include <vector>

#include "api/account_json.h"
#include "api/fields.h"
#include "common/time.h"
#include "http/json.h"

namespace nj::api {
namespace {

using nlohmann::json;

constexpr size_t kMaxEmail = 254;
constexpr size_t kMaxPassword = 1024;  // bytes; the rule (≤128 characters) is checked later
constexpr size_t kMaxToken = 128;

std::string client_description(const http::Request& r) {
  return std::string(r.headers.get("User-Agent").value_or("unknown client").substr(0, 200));
}

std::string set_cookie(const std::string& name, const std::string& value, int64_t max_age_s,
                       bool http_only, bool secure) {
  std::string c =
      name + "=" + value + "; Path=/; SameSite=Strict; Max-Age=" + std::to_string(max_age_s);
  if (http_only) c += "; HttpOnly";
  if (secure) c += "; Secure";
  return c;
}

}  // namespace

std::optional<http::Response> refuse_mail(mail::MailRateLimiter& limits,
                                          const http::Request& request, const std::string& to,
                                          const std::string& user_id) {
  std::string to_key = "to:";
  for (char c : to) to_key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<std::string> keys = {"ip:" + request.remote_address, std::move(to_key)};
  if (!user_id.empty()) keys.push_back("user:" + user_id);
  const int64_t wait_ms = limits.take(keys);
  if (wait_ms <= 0) return std::nullopt;
  const auto seconds = std::to_string((wait_ms + 999) / 1000);
  auto r = http::error_response(429, "rate_limited",
                                "too many messages asked for; try again in " + seconds + " s");
  r.headers.set("Retry-After", seconds);
  return r;
}

void AuthApi::install(http::Router& router) {
  using http::Method;
  using http::Request;
  using http::Response;

  router.add_async(Method::kPost, "/api/v1/auth/register", on_pool(pool_, [this](const Request& r) {
                     auto body = http::parse_json_body(r);
                     if (!body) return std::move(body).error();
                     auto email = string_field(*body, "email", kMaxEmail, true);
                     auto password = string_field(*body, "password", kMaxPassword, true);
                     auto language = string_field(*body, "language", 16, true);
                     auto policy = string_field(*body, "policy_version", 64, true);
                     auto region = string_field(*body, "region", 32, false);
                     for (auto* f : {&email, &password, &language, &policy, &region}) {
                       if (!*f) return std::move(*f).error();
                     }
                     const auto* regions = regions_.load();
                     if (*region && (!regions || !regions->find(**region))) {
                       return http::error_response(400, "unknown_region", "no such region");
                     }
                     if (auto no = refuse_mail(mail_limits_, r, **email)) {
                       return std::move(*no);
                     }
                     auto done = accounts_.register_account(**email, **password, **language,
                                                            **policy, region->value_or(""));
                     if (!done) return account_error(done.error());
                     // The same answer for a new and an already registered address.
                     auto answer = http::json_response(202, {{"status", "verification_sent"}});
                     if (registered_) registered_(**email, answer);
                     return answer;
                   }));

  router.add(Method::kPost, "/api/v1/auth/verify", [this](const Request& r) {
    auto body = http::parse_json_body(r);
    if (!body) return std::move(body).error();
    auto token = string_field(*body, "token", kMaxToken, true);
    if (!token) return std::move(token).error();
    auto done = accounts_.verify_email(**token);
    if (!done) return account_error(done.error());
    return http::json_response(200, {{"status", "verified"}});
  });

  router.add(Method::kPost, "/api/v1/auth/resend-verification", [this](const Request& r) {
    auto body = http::parse_json_body(r);
    if (!body) return std::move(body).error();
    auto email = string_field(*body, "email", kMaxEmail, true);
    if (!email) return std::move(email).error();
    if (auto no = refuse_mail(mail_limits_, r, **email)) {
      return std::move(*no);
    }
    auto done = accounts_.resend_verification(**email);
    if (!done) return account_error(done.error());
    return http::json_response(202, {{"status", "verification_sent"}});
  });

  router.add_async(
      Method::kPost, "/api/v1/auth/login", on_pool(pool_, [this](const Request& r) {
        auto body = http::parse_json_body(r);
        if (!body) return std::move(body).error();
        auto email = string_field(*body, "email", kMaxEmail, true);
        auto password = string_field(*body, "password", kMaxPassword, true);
        auto totp = string_field(*body, "totp", 32, false);
        for (auto* f : {&email, &password, &totp}) {
          if (!*f) return std::move(*f).error();
        }
        auto session = accounts_.login(**email, **password, totp->value_or(""),
                                       client_description(r), r.remote_address);
        if (!session) return account_error(session.error());
        const auto max_age = accounts_.options().session_absolute_ms / 1000;
        auto response = http::json_response(
            200, {{"token", session->token},
                  {"csrf_token", session->csrf_token},
                  {"session_id", session->session_id},
                  {"expires_at",
                   format_rfc3339(SystemTime(std::chrono::milliseconds(session->expires_at)))},
                  {"user", profile_json(session->profile)}});
        response.headers.add(
            "Set-Cookie", set_cookie("nj_session", session->token, max_age, true, cookies_.secure));
        response.headers.add("Set-Cookie", set_cookie("nj_csrf", session->csrf_token, max_age,
                                                      false, cookies_.secure));
        response.headers.set("Cache-Control", "no-store");
        return response;
      }));

  router.add_async(
      Method::kPost, "/api/v1/auth/logout",
      guard_.user([this](const Request&, const account::Principal& who) {
        if (auto r = accounts_.logout(who); !r) return account_error(r.error());
        Response response{204, {}, {}};
        response.headers.add("Set-Cookie", set_cookie("nj_session", "", 0, true, cookies_.secure));
        response.headers.add("Set-Cookie", set_cookie("nj_csrf", "", 0, false, cookies_.secure));
        return response;
      }));

  // Who am I, if anyone: 200 with the profile or null (the app asks this at start, so a
  // signed-out visitor is not an error).
  router.add(Method::kGet, "/api/v1/auth/session", [this](const Request& r) {
    auto who = guard_.identify(r);
    json user = nullptr;
    if (who) {
      if (auto p = accounts_.profile(*who)) user = profile_json(*p);
    }
    auto response = http::json_response(200, {{"user", user}});
    response.headers.set("Cache-Control", "no-store");
    return response;
  });

  router.add(Method::kPost, "/api/v1/auth/password-reset", [this](const Request& r) {
    auto body = http::parse_json_body(r);
    if (!body) return std::move(body).error();
    auto email = string_field(*body, "email", kMaxEmail, true);
    if (!email) return std::move(email).error();
    if (auto no = refuse_mail(mail_limits_, r, **email)) {
      return std::move(*no);
    }
    auto done = accounts_.request_password_reset(**email);
    if (!done) return account_error(done.error());
    return http::json_response(202, {{"status", "reset_sent_if_registered"}});
  });

  router.add_async(Method::kPost, "/api/v1/auth/password-reset/confirm",
                   on_pool(pool_, [this](const Request& r) {
                     auto body = http::parse_json_body(r);
                     if (!body) return std::move(body).error();
                     auto token = string_field(*body, "token", kMaxToken, true);
                     auto password = string_field(*body, "password", kMaxPassword, true);
                     for (auto* f : {&token, &password}) {
                       if (!*f) return std::move(*f).error();
                     }
                     auto done = accounts_.reset_password(**token, **password);
                     if (!done) return account_error(done.error());
                     return http::json_response(200, {{"status", "password_changed"}});
                   }));
}

}  // namespace nj::api
