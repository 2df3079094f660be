#include "http/json.h"

#include <gtest/gtest.h>

namespace nj::http {
namespace {

Request json_request(std::string body, std::string type = "application/json") {
  Request r;
  r.method = Method::kPost;
  r.headers.set("Content-Type", std::move(type));
  r.body = std::move(body);
  return r;
}

TEST(Json, ParsesValidBody) {
  auto r = parse_json_body(
      json_request(R"({"a": [1, 2, {"b": "}]"}]})", "application/json; charset=utf-8"));
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["a"][2]["b"], "}]");
}

TEST(Json, MalformedIs400BadJson) {
  for (const char* bad : {"", "{", "{\"a\":}", "[1,]", "nul", "{\"a\":1}}"}) {
    auto r = parse_json_body(json_request(bad));
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().status, 400);
    EXPECT_NE(r.error().body.find("\"bad_json\""), std::string::npos);
  }
}

TEST(Json, WrongContentTypeIs415) {
  auto r = parse_json_body(json_request("{}", "text/plain"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, 415);
}

TEST(Json, DeepNestingIsRejectedWithoutRecursion) {
  const std::string deep(200000, '[');
  auto r = parse_json_body(json_request(deep));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, 400);
  EXPECT_FALSE(json_nesting_exceeds("[[[\"[[[[[[[[\"]]]", 3));
  EXPECT_TRUE(json_nesting_exceeds("[[[[1]]]]", 3));
}

}  // namespace
}  // namespace nj::http
