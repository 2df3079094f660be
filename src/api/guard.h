// Who is calling: every route that needs a signed-in person goes through Guard. It takes the
// session from "Authorization: Bearer …" (API clients) or the nj_session cookie (the web
// app), refuses cookie-authenticated writes without the CSRF token (double-submit: the
// nj_csrf cookie echoed in X-CSRF-Token) or from another origin, and passes the Principal
// on. Object-level checks ("is this mine?") are made by the services, scoped by Principal.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "account/service.h"
#include "common/worker_pool.h"
#include "http/router.h"

namespace nj::api {

using UserHandler = std::function<http::Response(const http::Request&, const account::Principal&)>;

class Guard {
 public:
  explicit Guard(account::AccountService& accounts) : accounts_(accounts) {}

  // The caller, or the 401/403 to send.
  Result<account::Principal, http::Response> identify(const http::Request& request) const;

  // Runs handler for a signed-in caller on the calling loop (cheap handlers).
  http::Handler user(UserHandler handler) const;
  // Runs handler for a signed-in caller on the worker pool (handlers that hash passwords).
  http::Handler user_on(WorkerPool& pool, UserHandler handler) const;

 private:
  account::AccountService& accounts_;
};

// The session token from the request: Bearer first, then the nj_session cookie.
std::optional<std::string> session_token(const http::Request& request, bool* from_cookie);
std::optional<std::string> cookie(const http::Request& request, std::string_view name);

// Maps a service error to the API's error response.
http::Response account_error(const account::AccountError& error);

// Runs fn on the pool and answers with its result; 503 if the pool is saturated.
http::Handler on_pool(WorkerPool& pool, http::SyncHandler fn);

}  // namespace nj::api
