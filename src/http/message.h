// HTTP requests and responses as plain values, free of any network library: handlers,
// the router and static serving are written and tested against these alone.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nj::http {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };
std::string_view method_name(Method m);
Method parse_method(std::string_view name);

// Header fields in arrival order; names compare case-insensitively.
class Headers {
 public:
  std::optional<std::string_view> get(std::string_view name) const;
  void set(std::string_view name, std::string value);  // replaces every field of that name
  void add(std::string_view name, std::string value);
  void remove(std::string_view name);
  auto begin() const { return fields_.begin(); }
  auto end() const { return fields_.end(); }
  size_t size() const { return fields_.size(); }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

bool iequals(std::string_view a, std::string_view b);

struct Request {
  Method method = Method::kGet;
  std::string target;  // as sent: path plus "?query"
  std::string path;    // percent-encoded path, no query
  std::string query;   // raw query string, no "?"
  Headers headers;
  std::string body;
  std::string remote_address;
  std::map<std::string, std::string, std::less<>> params;  // path parameters, decoded

  // The first value of a query parameter, percent-decoded; nullopt if absent or undecodable.
  std::optional<std::string> query_param(std::string_view name) const;
  // Splits target into path and query.
  void set_target(std::string t);
};

// A body made piece by piece while it is sent, for downloads too large to hold in memory
// (a clip of hours): `size` bytes in all; read(offset, max) returns the next at most `max`
// bytes from `offset` (empty, or short of the size at the end, is an error: the length was
// promised, so the connection is cut). Called on the connection's loop, one read at a time.
struct BodySource {
  uint64_t size = 0;
  std::function<std::optional<std::string>(uint64_t offset, size_t max)> read;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  std::shared_ptr<BodySource> stream = nullptr;  // instead of body when set
};

// {"error": {"code": ..., "message": ...}} with the status; the shape every error takes.
Response error_response(int status, std::string_view code, std::string_view message);
Response text_response(int status, std::string body, std::string content_type);

std::string_view status_reason(int status);

// Percent-decoding; '+' becomes a space only when plus_as_space (query strings).
// nullopt for a malformed escape or a decoded NUL.
std::optional<std::string> url_decode(std::string_view in, bool plus_as_space);

}  // namespace nj::http

namespace nj::http {

// The strict Content-Security-Policy and companions sent with every response: the web app
// loads nothing from any other origin (no CDNs, fonts, analytics or SDKs).
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
void add_security_headers(Headers& headers);

}  // namespace nj::http
