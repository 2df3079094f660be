// /api/v1/me…: the signed-in person's profile, password, sessions, two-step verification
// and cancellation. Every route acts only on the caller's own account.
#pragma once

#include "account/policy.h"
#include "account/service.h"
#include "api/guard.h"
#include "common/worker_pool.h"
#include "http/router.h"

namespace nj::api {

class MeApi {
 public:
  MeApi(account::AccountService& accounts, const Guard& guard, WorkerPool& pool)
      : accounts_(accounts), guard_(guard), pool_(pool) {}
  void install(http::Router& router);
  // The running policy and who accepted which: GET /me says whether the person must accept
  // the current one, POST /me/policy records that they do.
  void set_policy(account::PolicyLedger* ledger, std::string current) {
    ledger_ = ledger;
    current_policy_ = std::move(current);
  }

 private:
  account::PolicyLedger* ledger_ = nullptr;
  std::string current_policy_;
  account::AccountService& accounts_;
  const Guard& guard_;
  WorkerPool& pool_;
};

}  // namespace nj::api
