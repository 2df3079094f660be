// /api/v1/auth/…: registration, e-mail verification, sign-in and out, password reset.
#pragma once

#include <atomic>

#include "account/service.h"
#include "api/guard.h"
#include "common/worker_pool.h"
#include "http/router.h"
#include "mail/rate_limit.h"
#include "privacy/regions.h"

namespace nj::api {

struct CookieOptions {
  bool secure = false;  // add "Secure" (set when the server is reached over HTTPS)
};

class AuthApi {
 public:
  // mail_limits: how often mail may be caused (registration, resends, resets).
  AuthApi(account::AccountService& accounts, const Guard& guard, WorkerPool& pool,
          CookieOptions cookies, mail::MailRateLimiter& mail_limits)
      : accounts_(accounts),
        guard_(guard),
        pool_(pool),
        cookies_(cookies),
        mail_limits_(mail_limits) {}
  void install(http::Router& router);
  // Told of every registration that was accepted, with the answer about to go (demo mode
  // adds a cookie that lets this browser read the verification mail). Set before serving.
  using Registered = std::function<void(const std::string& email, http::Response& response)>;
  void on_registered(Registered f) { registered_ = std::move(f); }
  // The data regions a person may choose at registration ("region"; absent: the default).
  // (Set once the regions are known; the port is open already.)
  void set_regions(const privacy::Regions* regions) { regions_.store(regions); }

 private:
  Registered registered_;
  std::atomic<const privacy::Regions*> regions_{nullptr};
  account::AccountService& accounts_;
  const Guard& guard_;
  WorkerPool& pool_;
  CookieOptions cookies_;
  mail::MailRateLimiter& mail_limits_;
};

// A mail to `to` caused by this request (and person, if any) counted against the mail
// limits: nullopt if allowed, else the 429 rate_limited answer with Retry-After.
std::optional<http::Response> refuse_mail(mail::MailRateLimiter& limits,
                                          const http::Request& request, const std::string& to,
                                          const std::string& user_id = "");

}  // namespace nj::api
