// Fuzz target: an HTTP request as the handlers see it — target (path + query) routing,
// percent-decoding, query parameters and JSON bodies. Input: "target\nbody".
#include <cstddef>
#include <cstdint>
#include <string>

#include "http/json.h"
#include "http/router.h"

namespace {

const nj::http::Router& router() {
  static const nj::http::Router r = [] {
    nj::http::Router router;
    auto ok = [](const nj::http::Request&) { return nj::http::Response{}; };
    for (const char* p :
         {"/healthz", "/api/v1/devices", "/api/v1/devices/{id}",
          "/api/v1/devices/{id}/snapshot.jpg", "/api/v1/events/{id}/snapshot.jpg"}) {
      router.add(nj::http::Method::kGet, p, ok);
    }
    router.add(nj::http::Method::kPost, "/api/v1/devices/{id}/shares", ok);
    router.add_websocket("/api/v1/devices/{id}/live",
                         [](const nj::http::Request&, std::shared_ptr<nj::http::WebSocketPeer>) {
                           return nj::http::WebSocketAccept{};
                         });
    router.set_fallback(ok);
    return router;
  }();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  nj::http::Request request;
  request.method = size > 0 && (data[0] & 1) ? nj::http::Method::kPost : nj::http::Method::kGet;
  request.set_target(input.substr(0, newline));
  for (bool upgrade : {false, true}) {
    const auto match = router().match(request, upgrade);
    if (match.outcome == nj::http::Router::Outcome::kMatched && match.route == nullptr)
      __builtin_trap();
  }
  for (const char* name : {"from", "to", "token", ""}) (void)request.query_param(name);
  (void)nj::http::url_decode(request.path, false);
  if (newline != std::string::npos) {
    request.headers.set("Content-Type", "application/json");
    request.body = input.substr(newline + 1);
    auto parsed = nj::http::parse_json_body(request);
    if (!parsed && parsed.error().status != 400) __builtin_trap();
  }
  return 0;
}
