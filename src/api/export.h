// The person's data export: POST /api/v1/me/export asks for one (a background job builds
// it), GET /api/v1/me/export says how far it is and, once ready, where to download it;
// GET /api/v1/me/export/{id}/download streams the ZIP to the signed-in person, for a day.
#pragma once

#include "api/guard.h"
#include "http/router.h"
#include "privacy/export.h"

namespace nj::api {

class ExportApi {
 public:
  ExportApi(const Guard& guard, privacy::Exports& exports) : guard_(guard), exports_(exports) {}
  void install(http::Router& router);

 private:
  const Guard& guard_;
  privacy::Exports& exports_;
};

}  // namespace nj::api
