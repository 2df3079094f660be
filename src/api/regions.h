// Data regions (policy item 36, privacy::Regions):
//   GET  /api/v1/regions        the regions to choose from at sign-up (public)
//   GET  /api/v1/me/region      the person's region and their moves (each one's consent)
//   POST /api/v1/me/region      {"region", "consent": true}: move their data there. Without
//       an explicit consent nothing moves (400 consent_required).
// The region is chosen at sign-up (POST /auth/register's "region").
#pragma once

#include "api/guard.h"
#include "http/router.h"
#include "privacy/regions.h"

namespace nj::api {

class RegionsApi {
 public:
  RegionsApi(const Guard& guard, privacy::Regions& regions) : guard_(guard), regions_(regions) {}
  void install(http::Router& router);

 private:
  const Guard& guard_;
  privacy::Regions& regions_;
};

}  // namespace nj::api
