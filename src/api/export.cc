#include "api/export.h"

#include <fstream>
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
              {"expires_at", e.expires_at ? json(rfc3339_ms(*e.expires_at)) : json(nullptr)}};
  out["download"] =
      e.state == "ready" ? json("/api/v1/me/export/" + e.id + "/download") : json(nullptr);
  return out;
}

}  // namespace

void ExportApi::install(http::Router& router) {
  router.add_async(http::Method::kPost, "/api/v1/me/export",
                   guard_.user([this](const http::Request&, const account::Principal& who) {
                     auto e = exports_.request(who.user_id);
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
        auto path = exports_.file(who.user_id, r.params.at("id"));
        if (!path) return http::error_response(404, "not_found", "no such export, or it expired");
        std::error_code ec;
        const auto size = std::filesystem::file_size(*path, ec);
        if (ec) return http::error_response(404, "not_found", "no such export, or it expired");
        http::Response res{200, {}, {}};
        res.stream = streamed_download(
            0, size, [] { return true; },
            [file = *path](uint64_t at, uint64_t n) -> std::optional<std::vector<uint8_t>> {
              std::ifstream in(file, std::ios::binary);
              if (!in.seekg(static_cast<std::streamoff>(at))) return std::nullopt;
              std::vector<uint8_t> bytes(n);
              in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(n));
              if (in.gcount() != static_cast<std::streamsize>(n)) return std::nullopt;
              return bytes;
            });
        res.headers.set("Content-Type", "application/zip");
        res.headers.set("Content-Disposition", "attachment; filename=\"nightjar-data.zip\"");
        res.headers.set("Cache-Control", "no-store");
        return res;
      }));
}

}  // namespace nj::api
