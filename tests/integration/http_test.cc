// The HTTP server end to end: routes, errors, limits and the live WebSocket feed, against a
// real `nightjar serve` process with small limits so each one is reachable in a test.
#include <gtest/gtest.h>

#include <thread>

#include "integration/fixture.h"

namespace nj::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSmallLimits = R"(
[http]
header_limit_bytes = 4096
body_limit_bytes = 4096
idle_timeout_ms = 1000
request_timeout_ms = 2000
websocket_message_limit_bytes = 1024
)";

class HttpServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess(kSmallLimits);
    ASSERT_TRUE(server_->start()) << server_->log();
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->stop(), 0) << server_->log();
    delete server_;
  }
  // Proves the server still answers others after an abusive client.
  static void expect_still_serving() {
    auto r = server_->get("/healthz");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.json()["status"], "ok");
  }
  static void expect_error(const HttpResult& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/json");
    auto j = r.json();
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_EQ(j["error"]["code"], code) << r.body;
    EXPECT_TRUE(j["error"]["message"].is_string());
  }
  static ServerProcess* server_;
};
ServerProcess* HttpServerTest::server_ = nullptr;

TEST_F(HttpServerTest, HealthzReportsOk) {
  auto r = server_->get("/healthz");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("cache-control"), "no-store");
  auto j = r.json();
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["database"]["ok"], true);
  EXPECT_GE(j["database"]["schema_version"].get<int>(), 1);
  EXPECT_EQ(j["instance"].get<std::string>().size(), 32u);
  EXPECT_TRUE(j["time"].get<std::string>().ends_with("Z"));
}

TEST_F(HttpServerTest, MetricsArePrometheusTextWithPerRouteLatency) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(server_->get("/healthz").status, 200);
  server_->get("/definitely/not/here.txt");
  auto r = server_->get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const auto& m = r.body;
  EXPECT_NE(m.find("# TYPE nightjar_http_requests_total counter"), std::string::npos);
  EXPECT_NE(m.find("# TYPE nightjar_http_request_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(m.find("nightjar_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"}"),
            std::string::npos);
  EXPECT_NE(m.find("nightjar_http_request_duration_seconds_count{route=\"/healthz\"}"),
            std::string::npos);
  // Unknown paths share one label, so hostile URLs cannot blow up the series count.
  EXPECT_EQ(m.find("not/here"), std::string::npos);
  // Every non-comment line is "name{labels} value".
  std::istringstream lines(m);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    EXPECT_NE(line.rfind(' '), std::string::npos) << line;
  }
}

TEST_F(HttpServerTest, ServesTheWebAppWithStrictCspAndCaching) {
  auto index = server_->get("/");
  ASSERT_EQ(index.status, 200);
  EXPECT_EQ(index.header("content-type"), "text/html; charset=utf-8");
  EXPECT_TRUE(index.header("content-security-policy").starts_with("default-src 'self'"));
  EXPECT_EQ(index.header("x-content-type-options"), "nosniff");
  // The pages may use the microphone (talk), never the phone's camera or its location.
  EXPECT_EQ(index.header("permissions-policy"), "camera=(), geolocation=(), microphone=(self)");
  EXPECT_NE(index.body.find("Nightjar test app"), std::string::npos);
  auto deep = server_->get("/devices/42/live");
  EXPECT_EQ(deep.status, 200) << "client-side routes get the app";
  auto asset = server_->get("/assets/app-abc123.js");
  ASSERT_EQ(asset.status, 200);
  EXPECT_EQ(asset.header("cache-control"), "public, max-age=31536000, immutable");
  auto revalidate =
      server_->request("GET", "/assets/app-abc123.js", {{"If-None-Match", asset.header("etag")}});
  EXPECT_EQ(revalidate.status, 304);
  auto head = server_->request("HEAD", "/");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-length"), std::to_string(index.body.size()));
}

TEST_F(HttpServerTest, UnknownRouteIs404InTheErrorShape) {
  expect_error(server_->get("/api/v1/nothing-here"), 404, "not_found");
  expect_error(server_->get("/missing.png"), 404, "not_found");
  expect_error(server_->request("DELETE", "/some/page"), 404, "not_found");
}

TEST_F(HttpServerTest, WrongMethodIs405WithAllow) {
  auto r = server_->request("DELETE", "/healthz");
  expect_error(r, 405, "method_not_allowed");
  EXPECT_EQ(r.header("allow"), "GET");
}

TEST_F(HttpServerTest, MalformedJsonIs400) {
  expect_error(server_->request("POST", "/api/v1/client-errors",
                                {{"Content-Type", "application/json"}}, "{\"message\": "),
               400, "bad_json");
  expect_error(server_->request("POST", "/api/v1/client-errors",
                                {{"Content-Type", "application/json"}}, std::string(3000, '[')),
               400, "bad_json");
  expect_error(
      server_->request("POST", "/api/v1/client-errors", {{"Content-Type", "text/plain"}}, "{}"),
      415, "unsupported_media_type");
  auto ok =
      server_->request("POST", "/api/v1/client-errors", {{"Content-Type", "application/json"}},
                       R"({"message":"TypeError: boom","source":"app.js:1:2"})");
  EXPECT_EQ(ok.status, 204);
  // Logged for the operator, without the reporter's address (privacy policy items 1 and 11).
  const auto log = server_->log();
  const auto at = log.find("web.client_error");
  ASSERT_NE(at, std::string::npos) << log;
  const auto line = log.substr(at, log.find('\n', at) - at);
  EXPECT_NE(line.find("TypeError: boom"), std::string::npos) << line;
  EXPECT_EQ(line.find("127.0.0.1"), std::string::npos) << line;
  expect_still_serving();
}

TEST_F(HttpServerTest, OversizedHeaderIs431AndOthersAreServed) {
  auto r = server_->request("GET", "/healthz", {{"X-Padding", std::string(8000, 'a')}});
  expect_error(r, 431, "header_too_large");
  expect_still_serving();
}

TEST_F(HttpServerTest, OversizedBodyIs413BeforeItIsRead) {
  auto r = server_->request("POST", "/api/v1/client-errors", {{"Content-Type", "application/json"}},
                            std::string(10000, ' '));
  expect_error(r, 413, "body_too_large");
  // Chunked, with no length announced: cut off when the limit is crossed.
  RawConnection raw(server_->http_port());
  std::string chunked =
      "POST /api/v1/client-errors HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 5; ++i) chunked += "400\r\n" + std::string(1024, ' ') + "\r\n";
  ASSERT_TRUE(raw.send(chunked));
  const auto reply = raw.read_all(3s);
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 413")) << reply;
  EXPECT_NE(reply.find("body_too_large"), std::string::npos);
  expect_still_serving();
}

TEST_F(HttpServerTest, GarbageIs400AndConnectionCloses) {
  RawConnection raw(server_->http_port());
  ASSERT_TRUE(raw.send("THIS IS NOT HTTP\r\n\r\n"));
  const auto reply = raw.read_all(3s);
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 400")) << reply;
  EXPECT_NE(reply.find("\"bad_request\""), std::string::npos);
  EXPECT_TRUE(raw.closed_within(1s));
  expect_still_serving();
}

TEST_F(HttpServerTest, SlowClientIsCutOffWhileOthersAreServed) {
  // Slowloris: a header that never ends, one byte at a time.
  RawConnection slow(server_->http_port());
  ASSERT_TRUE(slow.send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  const auto start = std::chrono::steady_clock::now();
  bool cut = false;
  for (int i = 0; i < 40 && !cut; ++i) {
    if (!slow.send("X")) {
      cut = true;
      break;
    }
    expect_still_serving();
    cut = slow.closed_within(100ms);
  }
  const auto held = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(cut) << "a trickling client must be disconnected";
  EXPECT_LT(held, 3s) << "cut off near the 1 s idle limit";
  // An idle connection that never sends anything is closed too.
  RawConnection idle(server_->http_port());
  EXPECT_TRUE(idle.closed_within(3s));
  expect_still_serving();
}

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  RawConnection raw(server_->http_port());
  std::string pipeline;
  for (int i = 0; i < 3; ++i) pipeline += "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_TRUE(raw.send(pipeline));
  const auto reply = raw.read_all(1500ms);
  size_t count = 0;
  for (size_t pos = 0; (pos = reply.find("HTTP/1.1 200 OK", pos)) != std::string::npos; ++pos) {
    ++count;
  }
  EXPECT_EQ(count, 3u);
}

TEST_F(HttpServerTest, HealthFeedOverWebSocket) {
  WsClient ws;
  ASSERT_EQ(ws.connect(server_->http_port(), "/api/v1/health/live"), 101);
  auto first = ws.receive(2s);
  ASSERT_TRUE(first);
  auto j = nlohmann::json::parse(*first);
  EXPECT_EQ(j["type"], "health");
  EXPECT_EQ(j["status"], "ok");
  ASSERT_TRUE(ws.send_text(R"({"type":"health"})"));
  auto second = ws.receive(2s);
  ASSERT_TRUE(second);
  EXPECT_EQ(nlohmann::json::parse(*second)["type"], "health");
  ASSERT_TRUE(ws.send_text("nonsense"));
  auto error = ws.receive(2s);
  ASSERT_TRUE(error);
  EXPECT_EQ(nlohmann::json::parse(*error)["error"]["code"], "bad_message");
  // A message over the 1 KiB limit ends the connection; the server carries on.
  ASSERT_TRUE(ws.send_text(std::string(4096, 'x')));
  EXPECT_FALSE(ws.receive(2s));
  expect_still_serving();
}

TEST_F(HttpServerTest, WebSocketUpgradeOnPlainRouteIsRefused) {
  WsClient ws;
  EXPECT_EQ(ws.connect(server_->http_port(), "/healthz"), 400);
  WsClient unknown;
  EXPECT_EQ(unknown.connect(server_->http_port(), "/api/v1/nothing"), 404);
  auto plain = server_->get("/api/v1/health/live");
  expect_error(plain, 426, "upgrade_required");
}

TEST_F(HttpServerTest, RejectionsAreCounted) {
  server_->request("GET", "/healthz", {{"X-Padding", std::string(8000, 'a')}});
  const auto metrics = server_->get("/metrics").body;
  EXPECT_NE(metrics.find("nightjar_http_rejected_total{reason=\"header_too_large\"}"),
            std::string::npos);
}

}  // namespace
}  // namespace nj::testing
