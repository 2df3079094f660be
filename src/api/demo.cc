#include "api/demo.h"

#include "api/account_json.h"
#include "http/json.h"

namespace nj::api {

void DemoApi::install(http::Router& router) {
  router.add(http::Method::kGet, "/api/v1/demo/outbox", [this](const http::Request&) {
    auto list = outbox_.list(100);
    if (!list) return http::error_response(500, "internal", "internal error");
    nlohmann::json mails = nlohmann::json::array();
    for (auto it = list->rbegin(); it != list->rend(); ++it) {
      mails.push_back({{"to", it->mail.to},
                       {"subject", it->mail.subject},
                       {"body", it->mail.body},
                       {"created_at", rfc3339_ms(it->created_at)}});
    }
    auto r = http::json_response(200, {{"mails", mails}});
    r.headers.set("Cache-Control", "no-store");
    return r;
  });
}

}  // namespace nj::api
