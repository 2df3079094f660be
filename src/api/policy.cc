#include "api/policy.h"

#include "http/json.h"

namespace nj::api {

void PolicyApi::install(http::Router& router) {
  router.add(http::Method::kGet, "/api/v1/policy", [this](const http::Request& r) {
    const auto language = r.query_param("language").value_or("en");
    const bool known = policy_.text.contains(language);
    return http::json_response(200, {{"version", policy_.version},
                                     {"language", known ? language : "en"},
                                     {"text", policy_.in(language)}});
  });
}

}  // namespace nj::api
