#include "http/static_files.h"

#include <fstream>
#include <sstream>
#include <system_error>

namespace nj::http {
namespace fs = std::filesystem;

std::string_view content_type_for(const fs::path& file) {
  const auto ext = file.extension().string();
  struct Entry {
    std::string_view ext, type;
  };
  static constexpr Entry kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".ico", "image/x-icon"},
      {".webp", "image/webp"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"},
      {".wasm", "application/wasm"},
      {".mp4", "video/mp4"},
      {".m3u8", "application/vnd.apple.mpegurl"},
  };
  for (const auto& e : kTypes) {
    if (e.ext == ext) return e.type;
  }
  return "application/octet-stream";
}

StaticFiles::StaticFiles(const fs::path& root) : root_(fs::weakly_canonical(root)) {}

Response StaticFiles::serve(const Request& request) const {
  auto decoded = url_decode(request.path, false);
  if (!decoded || decoded->find('\\') != std::string::npos) {
    return error_response(400, "bad_path", "the path is not valid");
  }
  // Reject any ".." segment outright instead of resolving it.
  const fs::path relative = fs::path(*decoded).relative_path();
  for (const auto& part : relative) {
    if (part == "..") return error_response(400, "bad_path", "the path is not valid");
  }
  const bool is_api = decoded->starts_with("/api/");
  fs::path file = root_ / relative;
  std::error_code ec;
  if (fs::is_directory(file, ec)) file /= "index.html";
  if (fs::is_regular_file(file, ec)) {
    const bool immutable = relative.begin() != relative.end() && *relative.begin() == "assets";
    return serve_file(request, file, immutable);
  }
  // A path without an extension is a client-side route of the web app.
  if (!is_api && !relative.has_extension()) {
    const auto index = root_ / "index.html";
    if (fs::is_regular_file(index, ec)) return serve_file(request, index, false);
  }
  return error_response(404, "not_found", "no such resource");
}

Response StaticFiles::serve_file(const Request& request, const fs::path& file,
                                 bool immutable) const {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  const auto mtime = fs::last_write_time(file, ec);
  if (ec) return error_response(404, "not_found", "no such resource");
  std::ostringstream etag;
  etag << "W/\"" << std::hex << size << '-' << mtime.time_since_epoch().count() << '"';
  Response r;
  r.headers.set("ETag", etag.str());
  r.headers.set("Content-Type", std::string(content_type_for(file)));
  // Hashed asset names change with their content: cache forever. Everything else (the
  // index page) must be revalidated so a new release is picked up at once.
  r.headers.set("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  if (const auto inm = request.headers.get("If-None-Match"); inm && *inm == etag.str()) {
    r.status = 304;
    return r;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return error_response(404, "not_found", "no such resource");
  r.body.resize(size);
  in.read(r.body.data(), static_cast<std::streamsize>(size));
  r.body.resize(static_cast<size_t>(in.gcount()));
  return r;
}

}  // namespace nj::http
