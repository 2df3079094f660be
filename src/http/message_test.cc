#include "http/message.h"

#include <gtest/gtest.h>

namespace nj::http {
namespace {

TEST(Message, HeadersAreCaseInsensitive) {
  Headers h;
  h.add("Content-Type", "a");
  h.add("X-Two", "1");
  h.add("x-two", "2");
  EXPECT_EQ(h.get("content-type"), "a");
  h.set("X-TWO", "3");
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.get("x-two"), "3");
  h.remove("CONTENT-TYPE");
  EXPECT_FALSE(h.get("Content-Type"));
}

TEST(Message, TargetSplitsIntoPathAndQuery) {
  Request r;
  r.set_target("/api/v1/x?from=1&to=a%20b&flag&plus=a+b&bad=%zz");
  EXPECT_EQ(r.path, "/api/v1/x");
  EXPECT_EQ(r.query_param("from"), "1");
  EXPECT_EQ(r.query_param("to"), "a b");
  EXPECT_EQ(r.query_param("flag"), "");
  EXPECT_EQ(r.query_param("plus"), "a b");
  EXPECT_FALSE(r.query_param("bad"));
  EXPECT_FALSE(r.query_param("missing"));
}

TEST(Message, UrlDecodeRejectsMalformedEscapes) {
  EXPECT_EQ(url_decode("a%2Fb", false), "a/b");
  EXPECT_EQ(url_decode("a+b", false), "a+b");
  EXPECT_FALSE(url_decode("%", false));
  EXPECT_FALSE(url_decode("%4", false));
  EXPECT_FALSE(url_decode("%g0", false));
  EXPECT_FALSE(url_decode("%00", false));
}

TEST(Message, ErrorResponseHasDocumentedShape) {
  auto r = error_response(404, "not_found", "no \"such\" thing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.headers.get("Content-Type"), "application/json");
  EXPECT_EQ(r.body, R"({"error":{"code":"not_found","message":"no \"such\" thing"}})");
}

TEST(Message, SecurityHeadersIncludeStrictCsp) {
  Headers h;
  add_security_headers(h);
  ASSERT_TRUE(h.get("Content-Security-Policy"));
  EXPECT_TRUE(h.get("Content-Security-Policy")->starts_with("default-src 'self'"));
  EXPECT_EQ(h.get("X-Content-Type-Options"), "nosniff");
}

}  // namespace
}  // namespace nj::http
