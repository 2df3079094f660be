#include "api/policy.h"

#include "common/time.h"
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
  // Every version the server has run with, newest first: when, major or not, what changed.
  router.add(http::Method::kGet, "/api/v1/policy/history", [this](const http::Request&) {
    nlohmann::json list = nlohmann::json::array();
    if (ledger_) {
      for (const auto& v : ledger_->history()) {
        list.push_back({{"version", v.version},
                        {"installed_at",
                         format_rfc3339(SystemTime(std::chrono::milliseconds(v.installed_at)))},
                        {"major", v.major},
                        {"changes", v.changes}});
      }
    }
    return http::json_response(200, {{"current", policy_.version}, {"versions", list}});
  });
}

}  // namespace nj::api
