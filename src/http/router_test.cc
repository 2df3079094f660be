#include "http/router.h"

#include <gtest/gtest.h>

namespace nj::http {
namespace {

Request make(Method m, std::string target) {
  Request r;
  r.method = m;
  r.set_target(std::move(target));
  return r;
}

Response ok(const Request&) { return text_response(200, "ok", "text/plain"); }

TEST(Router, MatchesLiteralAndParameterSegments) {
  Router router;
  router.add(Method::kGet, "/api/v1/devices", ok);
  router.add(Method::kGet, "/api/v1/devices/{id}", ok);
  router.add(Method::kGet, "/api/v1/devices/{id}/snapshot.jpg", ok);
  auto r = make(Method::kGet, "/api/v1/devices/cam%201/snapshot.jpg?x=1");
  auto m = router.match(r, false);
  ASSERT_EQ(m.outcome, Router::Outcome::kMatched);
  EXPECT_EQ(m.route->pattern, "/api/v1/devices/{id}/snapshot.jpg");
  EXPECT_EQ(r.params.at("id"), "cam 1");
  auto list = make(Method::kGet, "/api/v1/devices");
  EXPECT_EQ(router.match(list, false).route->pattern, "/api/v1/devices");
}

TEST(Router, EmptyParameterSegmentDoesNotMatch) {
  Router router;
  router.add(Method::kGet, "/api/v1/devices/{id}", ok);
  auto r = make(Method::kGet, "/api/v1/devices/");
  EXPECT_EQ(router.match(r, false).outcome, Router::Outcome::kNotFound);
}

TEST(Router, WrongMethodIs405WithAllow) {
  Router router;
  router.add(Method::kGet, "/api/v1/me", ok);
  router.add(Method::kPatch, "/api/v1/me", ok);
  auto r = make(Method::kPost, "/api/v1/me");
  auto m = router.match(r, false);
  EXPECT_EQ(m.outcome, Router::Outcome::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, PATCH");
}

TEST(Router, HeadFallsBackToGet) {
  Router router;
  router.add(Method::kGet, "/healthz", ok);
  auto r = make(Method::kHead, "/healthz");
  EXPECT_EQ(router.match(r, false).outcome, Router::Outcome::kMatched);
}

TEST(Router, FallbackServesOnlyGetAndHead) {
  Router router;
  router.set_fallback(ok);
  auto get = make(Method::kGet, "/some/page");
  EXPECT_EQ(router.match(get, false).outcome, Router::Outcome::kFallback);
  auto post = make(Method::kPost, "/some/page");
  EXPECT_EQ(router.match(post, false).outcome, Router::Outcome::kNotFound);
}

TEST(Router, WebSocketRoutesMatchOnlyUpgrades) {
  Router router;
  router.add_websocket(
      "/ws", [](const Request&, std::shared_ptr<WebSocketPeer>) { return WebSocketAccept{}; });
  auto r = make(Method::kGet, "/ws");
  EXPECT_EQ(router.match(r, true).outcome, Router::Outcome::kMatched);
  EXPECT_EQ(router.match(r, false).outcome, Router::Outcome::kUpgradeRequired);
}

TEST(Router, BadPathsAreRejected) {
  Router router;
  router.add(Method::kGet, "/a/{x}", ok);
  auto r = make(Method::kGet, "/a/%zz");
  EXPECT_EQ(router.match(r, false).outcome, Router::Outcome::kBadPath);
  auto star = make(Method::kGet, "*");
  EXPECT_EQ(router.match(star, false).outcome, Router::Outcome::kBadPath);
}

TEST(Responder, AnswersOnceAndDroppedAnswers500) {
  std::vector<int> statuses;
  {
    Responder respond([&](Response r) { statuses.push_back(r.status); });
    respond(text_response(201, "", "text/plain"));
    respond(text_response(202, "", "text/plain"));  // ignored
  }
  {
    Responder forgotten([&](Response r) { statuses.push_back(r.status); });
  }
  EXPECT_EQ(statuses, (std::vector<int>{201, 500}));
}

TEST(Router, SyncHandlerExceptionBecomes500) {
  auto handler = make_async([](const Request&) -> Response { throw std::runtime_error("boom"); });
  Request r;
  int status = 0;
  handler(r, Responder([&](Response resp) { status = resp.status; }));
  EXPECT_EQ(status, 500);
}

}  // namespace
}  // namespace nj::http

namespace nj::http {
namespace {

TEST(Router, WrongKindOfRequestIsReported) {
  Router router;
  router.add(Method::kGet, "/plain", ok);
  router.add_websocket(
      "/ws", [](const Request&, std::shared_ptr<WebSocketPeer>) { return WebSocketAccept{}; });
  auto plain = make(Method::kGet, "/plain");
  EXPECT_EQ(router.match(plain, true).outcome, Router::Outcome::kNotWebSocket);
  auto ws = make(Method::kGet, "/ws");
  EXPECT_EQ(router.match(ws, false).outcome, Router::Outcome::kUpgradeRequired);
}

}  // namespace
}  // namespace nj::http
