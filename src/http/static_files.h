// Serves the built web app from a directory: content types, ETag/If-None-Match, long-lived
// caching for content-hashed assets, and the app's index.html for client-side routes.
#pragma once

#include <filesystem>
#include <string_view>

#include "http/message.h"

namespace nj::http {

std::string_view content_type_for(const std::filesystem::path& file);

class StaticFiles {
 public:
  explicit StaticFiles(const std::filesystem::path& root);
  // GET/HEAD only (the router guarantees it). Never serves outside root.
  Response serve(const Request& request) const;
  const std::filesystem::path& root() const { return root_; }

 private:
  Response serve_file(const Request& request, const std::filesystem::path& file,
                      bool immutable) const;
  std::filesystem::path root_;
};

}  // namespace nj::http
