#include "api/guard.h"

#include "account/crypto.h"

namespace nj::api {

std::optional<std::string> cookie(const http::Request& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (!http::iequals(key, "Cookie")) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const auto semi = rest.find(';');
      auto pair = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      const auto eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
        return std::string(pair.substr(eq + 1));
      }
    }
  }
  return std::nullopt;
}

std::optional<std::string> session_token(const http::Request& request, bool* from_cookie) {
  if (const auto auth = request.headers.get("Authorization")) {
    if (auth->size() > 7 && http::iequals(auth->substr(0, 7), "Bearer ")) {
      *from_cookie = false;
      return std::string(auth->substr(7));
    }
  }
  if (auto c = cookie(request, "nj_session")) {
    *from_cookie = true;
    return c;
  }
  return std::nullopt;
}

http::Response account_error(const account::AccountError& e) {
  using account::Errc;
  int status = 500;
  std::string code = "internal";
  switch (e.code) {
    case Errc::kInvalidInput:
      status = 400;
      code = "invalid_field";
      break;
    case Errc::kWeakPassword:
      status = 400;
      code = "weak_password";
      break;
    case Errc::kPolicyVersion:
      status = 409;
      code = "policy_version";
      break;
    case Errc::kInvalidCredentials:
      status = 401;
      code = "invalid_credentials";
      break;
    case Errc::kEmailNotVerified:
      status = 403;
      code = "email_not_verified";
      break;
    case Errc::kTotpRequired:
      status = 401;
      code = "totp_required";
      break;
    case Errc::kInvalidTotp:
      status = 401;
      code = "invalid_totp";
      break;
    case Errc::kLockedOut:
      status = 429;
      code = "locked_out";
      break;
    case Errc::kInvalidToken:
      status = 400;
      code = "invalid_token";
      break;
    case Errc::kUnauthenticated:
      status = 401;
      code = "unauthenticated";
      break;
    case Errc::kNotFound:
      status = 404;
      code = "not_found";
      break;
    case Errc::kConflict:
      status = 409;
      code = "conflict";
      break;
    case Errc::kUnavailable:
      status = 503;
      code = "unavailable";
      break;
    case Errc::kInternal:
      break;
  }
  auto r = http::error_response(status, code, e.message);
  if (!e.field.empty()) {
    // {"error":{"code","message","field"}}: insert the field before the closing braces.
    r.body.insert(r.body.size() - 2, R"(,"field":")" + e.field + "\"");
  }
  if (e.retry_after_ms > 0) {
    r.headers.set("Retry-After", std::to_string((e.retry_after_ms + 999) / 1000));
  }
  return r;
}

Result<account::Principal, http::Response> Guard::identify(const http::Request& request) const {
  bool from_cookie = false;
  const auto token = session_token(request, &from_cookie);
  if (!token) {
    return Unexpected(http::error_response(401, "unauthenticated", "sign in first"));
  }
  auto who = accounts_.authenticate(*token);
  if (!who) return Unexpected(account_error(who.error()));
  const bool write = request.method != http::Method::kGet && request.method != http::Method::kHead;
  if (from_cookie && write) {
    // A browser sends cookies with cross-site requests; a page of ours also sends the CSRF
    // token, which another site cannot read.
    const auto header = request.headers.get("X-CSRF-Token").value_or("");
    if (header.empty() ||
        !account::constant_time_equal(account::sha256_hex(header), who->csrf_hash)) {
      return Unexpected(http::error_response(403, "csrf", "missing or wrong CSRF token"));
    }
    if (const auto origin = request.headers.get("Origin")) {
      const auto host = request.headers.get("Host").value_or("");
      const auto scheme_end = origin->find("://");
      if (scheme_end == std::string_view::npos || origin->substr(scheme_end + 3) != host) {
        return Unexpected(http::error_response(403, "csrf", "cross-origin request refused"));
      }
    }
  }
  return std::move(who).value();
}

http::Handler Guard::user(UserHandler handler) const {
  return http::make_async([this, handler = std::move(handler)](const http::Request& request) {
    auto who = identify(request);
    if (!who) return std::move(who).error();
    return handler(request, *who);
  });
}

http::Handler on_pool(WorkerPool& pool, http::SyncHandler fn) {
  auto shared = std::make_shared<http::Handler>(http::make_async(std::move(fn)));
  return [&pool, shared](http::Request& request, const http::Responder& respond) {
    // The request lives only during this call: the task owns a copy.
    auto copy = std::make_shared<http::Request>(request);
    if (!pool.post([shared, copy, respond] { (*shared)(*copy, respond); })) {
      auto busy = http::error_response(503, "busy", "the server is busy; try again shortly");
      busy.headers.set("Retry-After", "1");
      respond(std::move(busy));
    }
  };
}

http::Handler Guard::user_on(WorkerPool& pool, UserHandler handler) const {
  return on_pool(pool, [this, handler = std::move(handler)](const http::Request& request) {
    auto who = identify(request);
    if (!who) return std::move(who).error();
    return handler(request, *who);
  });
}

}  // namespace nj::api
