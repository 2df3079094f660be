// Privacy requests from the person (policy item 37): POST /api/v1/me/requests files one
// (access, correction, deletion, complaint, question), GET lists theirs with the date each
// is due and, once the operator answered (`nightjar admin request answer`), the answer.
#pragma once

#include "api/guard.h"
#include "http/router.h"
#include "privacy/requests.h"

namespace nj::api {

class PrivacyRequestsApi {
 public:
  PrivacyRequestsApi(const Guard& guard, privacy::Requests& requests)
      : guard_(guard), requests_(requests) {}
  void install(http::Router& router);

 private:
  const Guard& guard_;
  privacy::Requests& requests_;
};

}  // namespace nj::api
