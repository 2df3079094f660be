#include "api/demo.h"

#include <algorithm>
#include <cctype>

#include "account/crypto.h"
#include "api/account_json.h"
#include "http/json.h"

namespace nj::api {
namespace {

constexpr const char* kCookie = "nj_demo_mail";
constexpr int64_t kCookieMs = 3600 * 1000;
constexpr size_t kMaxRegistrations = 10'000;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

void DemoApi::registered(const std::string& email, http::Response& response) {
  const auto token = account::random_token(24);
  const int64_t now = clock_.now_ms();
  {
    std::lock_guard lock(mu_);
    std::erase_if(by_cookie_, [now](const auto& r) { return r.second.expires_at <= now; });
    if (by_cookie_.size() >= kMaxRegistrations) return;  // a flood: no cookie, no harm
    by_cookie_[token] = {lower(email), now + kCookieMs};
  }
  response.headers.add("Set-Cookie", std::string(kCookie) + "=" + token +
                                         "; Path=/api/v1/demo; Max-Age=3600; SameSite=Strict; "
                                         "HttpOnly");
}

std::set<std::string> DemoApi::readable(const http::Request& request) {
  std::set<std::string> out = {lower(demo_email_)};
  if (auto who = guard_.identify(request)) {
    if (auto profile = accounts_.profile(*who)) out.insert(lower(profile->email));
  }
  if (auto token = cookie(request, kCookie)) {
    std::lock_guard lock(mu_);
    const auto it = by_cookie_.find(*token);
    if (it != by_cookie_.end() && it->second.expires_at > clock_.now_ms()) {
      out.insert(it->second.email);
    }
  }
  return out;
}

void DemoApi::install(http::Router& router, bool demo) {
  router.add(http::Method::kGet, "/api/v1/demo", [this, demo](const http::Request&) {
    if (!demo) return http::json_response(200, {{"demo", false}});
    return http::json_response(200, {{"demo", true}, {"login", demo_email_}});
  });
  if (!demo) return;
  router.add(http::Method::kGet, "/api/v1/demo/outbox", [this](const http::Request& request) {
    const auto mine = readable(request);
    auto list = outbox_.list(500);
    if (!list) return http::error_response(500, "internal", "internal error");
    nlohmann::json mails = nlohmann::json::array();
    for (auto it = list->rbegin(); it != list->rend() && mails.size() < 100; ++it) {
      if (!mine.contains(lower(it->mail.to))) continue;
      mails.push_back({{"to", it->mail.to},
                       {"subject", it->mail.subject},
                       {"body", it->mail.body},
                       {"created_at", rfc3339_ms(it->created_at)}});
    }
    auto r = http::json_response(200, {{"mails", mails}});
    r.headers.set("Cache-Control", "no-store");
    return r;
  });
}

}  // namespace nj::api
