// Reading fields of a JSON request body with clear errors.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/result.h"
#include "http/message.h"

namespace nj::api {

// A string field: absent → nullopt (or an error when required); wrong type or over max
// bytes → 400 invalid_field naming it.
Result<std::optional<std::string>, http::Response> string_field(const nlohmann::json& body,
                                                                const char* name, size_t max,
                                                                bool required);
Result<std::optional<bool>, http::Response> bool_field(const nlohmann::json& body,
                                                       const char* name);
http::Response invalid_field(const std::string& name, const std::string& message);
// The response marked Cache-Control: no-store (personal data: no browser or proxy keeps it).
http::Response no_store(http::Response r);
// 503 storage_unavailable with Retry-After: what was asked for is kept in a bucket that cannot
// be reached now. Nothing is lost; the same request succeeds once it is back.
http::Response storage_unavailable();

}  // namespace nj::api
