#include "api/client_errors.h"

#include <gtest/gtest.h>

namespace nj::api {
namespace {

http::Request post(std::string body) {
  http::Request r;
  r.method = http::Method::kPost;
  r.headers.set("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

TEST(ClientErrors, AcceptsValidReportsAndCountsThem) {
  metrics::Registry m;
  ClientErrorsApi api(m, {});
  EXPECT_EQ(api.handle(post(R"({"message":"TypeError: x","source":"app.js:1"})")).status, 204);
  EXPECT_NE(m.render().find("nightjar_web_client_errors_total{outcome=\"accepted\"} 1"),
            std::string::npos);
}

TEST(ClientErrors, RejectsInvalidReports) {
  metrics::Registry m;
  ClientErrorsApi api(m, {});
  EXPECT_EQ(api.handle(post("{")).status, 400);
  EXPECT_EQ(api.handle(post("[]")).status, 400);
  EXPECT_EQ(api.handle(post(R"({"message":5})")).status, 400);
  EXPECT_EQ(api.handle(post(R"({"message":""})")).status, 400);
  EXPECT_EQ(api.handle(post(R"({"message":")" + std::string(3000, 'x') + "\"}")).status, 400);
}

TEST(ClientErrors, RateLimitsFloods) {
  metrics::Registry m;
  ClientErrorsApi api(m, {.reports_per_second = 0.001, .burst = 3});
  int accepted = 0, limited = 0;
  for (int i = 0; i < 10; ++i) {
    const int s = api.handle(post(R"({"message":"x"})")).status;
    accepted += s == 204;
    limited += s == 429;
  }
  EXPECT_EQ(accepted, 3);
  EXPECT_EQ(limited, 7);
}

}  // namespace
}  // namespace nj::api
