// Demo mode only: GET /api/v1/demo/outbox shows the mail the server would have sent, so a
// visitor can follow verification and reset links without an SMTP server.
#pragma once

#include "http/router.h"
#include "mail/mail.h"

namespace nj::api {

class DemoApi {
 public:
  explicit DemoApi(mail::Outbox& outbox) : outbox_(outbox) {}
  void install(http::Router& router);

 private:
  mail::Outbox& outbox_;
};

}  // namespace nj::api
