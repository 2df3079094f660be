// /api/v1/me…: the signed-in person's profile, password, sessions, two-step verification
// and cancellation. Every route acts only on the caller's own account.
#pragma once

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

 private:
  account::AccountService& accounts_;
  const Guard& guard_;
  WorkerPool& pool_;
};

}  // namespace nj::api
