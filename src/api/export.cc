#include "api/export.h"

#include <nlohmann/json.hpp>

#include "api/account_json.h"
#include "api/fields.h"
#include "api/recordings.h"
#include "http/json.h"

namespace nj::api {

using nlohmann::json;

namespace {

json export_json(const privacy::ExportState& e) {
  json out = {{"id", e.id},
              {"state", e.state},
              {"done", e.done},
              {"total", e.total},
              {"created_at", rfc3339_ms(e.created_at)},
              {"recordings", e.with_recordings},
              {"expires_at", e.expires_at ? json(rfc3339_ms(*e.expires_at)) : json(nullptr)}};
  out["download"] =
      e.state == "ready" ? json("/api/v1/me/export/" + e.id + "/download") : json(nullptr);
  return out;
}

}  // namespace

void ExportApi::install(http::Router& router) {
  router.add_async(http::Method::kPost, "/api/v1/me/export",
                   guard_.user([this](const http::Request& r, const account::Principal& who) {
                     // {"recordings": true} adds their cameras' recordings; no body: without.
                     bool recordings = false;
                     if (!r.body.empty()) {
                       auto body = http::parse_json_body(r);
                       if (!body) return std::move(body).error();
                       const auto f = body->find("recordings");
                       if (f != body->end() && !f->is_boolean()) {
                         return http::error_response(400, "invalid_field",
                                                     "recordings must be true or false");
                       }
                       recordings = f != body->end() && f->get<bool>();
                     }
                     auto e = exports_.request(who.user_id, recordings);
                     if (!e) {
                       return http::error_response(409, "export_running",
                                                   "an export of yours is being made already");
                     }
                     return no_store(http::json_response(202, export_json(*e)));
                   }));
  router.add_async(
      http::Method::kGet, "/api/v1/me/export",
      guard_.user([this](const http::Request&, const account::Principal& who) {
        auto e = exports_.latest(who.user_id);
        return no_store(http::json_response(200, {{"export", e ? export_json(*e) : nullptr}}));
      }));
  router.add_async(
      http::Method::kGet, "/api/v1/me/export/{id}/download",
      guard_.user([this](const http::Request& r, const account::Principal& who) {
        auto download = exports_.open(who.user_id, r.params.at("id"));
        if (!download && download.error() == recording::Unreadable::kUnavailable) {
          return storage_unavailable();
        }
        if (!download) {
          return http::error_response(404, "not_found", "no such export, or it expired");
        }
        http::Response res{200, {}, {}};
        // Between pieces: the export still lasts (it did not expire, the account was not
        // cancelled), or the download ends there.
        res.stream = streamed_download(
            0, download->size,
            [this, user = who.user_id, id = r.params.at("id")] { return exports_.lasts(user, id); },
            std::move(download->read));
        res.headers.set("Content-Type", "application/zip");
        res.headers.set("Content-Disposition", "attachment; filename=\"nightjar-data.zip\"");
        res.headers.set("Cache-Control", "no-store");
        return res;
      }));
}

}  // namespace nj::api
