// Demo mode only (`--demo`, loopback unless `--demo-public`):
// - GET /api/v1/demo: {"demo": true, "login": …} so the app shows a demo banner (and
//   {"demo": false} on a real server);
// - GET /api/v1/demo/outbox: the mail the server would have sent, so a visitor can follow
//   verification and reset links without an SMTP server. Only the reader's own mail: a
//   signed-in person's, the addresses this browser registered (a cookie set at sign-up,
//   kept an hour), and the public demo account's. Never anyone else's.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "account/service.h"
#include "api/guard.h"
#include "common/clock.h"
#include "http/router.h"
#include "mail/mail.h"

namespace nj::api {

class DemoApi {
 public:
  DemoApi(mail::Outbox& outbox, account::AccountService& accounts, const Guard& guard,
          const Clock& clock, std::string demo_email)
      : outbox_(outbox),
        accounts_(accounts),
        guard_(guard),
        clock_(clock),
        demo_email_(std::move(demo_email)) {}
  // GET /api/v1/demo always (the app asks whether to show the banner); the outbox only
  // when `demo`.
  void install(http::Router& router, bool demo);
  // A registration from this browser: the answer carries a cookie naming the address, so
  // the outbox shows this browser that address's mail.
  void registered(const std::string& email, http::Response& response);
  // The addresses whose mail this request may read.
  std::set<std::string> readable(const http::Request& request);

 private:
  mail::Outbox& outbox_;
  account::AccountService& accounts_;
  const Guard& guard_;
  const Clock& clock_;
  std::string demo_email_;
  std::mutex mu_;
  struct Registration {
    std::string email;
    int64_t expires_at = 0;
  };
  std::map<std::string, Registration> by_cookie_;  // token → address, at most 10,000
};

}  // namespace nj::api
