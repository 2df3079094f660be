// GET /api/v1/policy[?language=zh-CN]: the current privacy policy and its version.
#pragma once

#include "account/policy.h"
#include "http/router.h"

namespace nj::api {

class PolicyApi {
 public:
  explicit PolicyApi(account::PolicyText policy, account::PolicyLedger* ledger = nullptr)
      : policy_(std::move(policy)), ledger_(ledger) {}
  void install(http::Router& router);

 private:
  account::PolicyText policy_;
  account::PolicyLedger* ledger_;
};

}  // namespace nj::api
