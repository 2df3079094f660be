#include "http/static_files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace nj::http {
namespace {
namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("nj-static-" + std::to_string(::getpid()));
    fs::create_directories(root_ / "assets");
    write(root_ / "index.html", "<!doctype html><title>nj</title>");
    write(root_ / "assets" / "app-1234.js", "console.log(1)");
    write(root_.parent_path() / ("secret-" + std::to_string(::getpid())), "secret");
  }
  void TearDown() override {
    fs::remove_all(root_);
    fs::remove(root_.parent_path() / ("secret-" + std::to_string(::getpid())));
  }
  static void write(const fs::path& p, const std::string& s) { std::ofstream(p) << s; }
  Response get(const std::string& target, const std::string& inm = "") {
    Request r;
    r.set_target(target);
    if (!inm.empty()) r.headers.set("If-None-Match", inm);
    return StaticFiles(root_).serve(r);
  }
  fs::path root_;
};

TEST_F(StaticFilesTest, ServesIndexWithNoCache) {
  auto r = get("/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.get("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(r.headers.get("Cache-Control"), "no-cache");
  EXPECT_NE(r.body.find("<title>nj</title>"), std::string::npos);
}

TEST_F(StaticFilesTest, HashedAssetsAreImmutable) {
  auto r = get("/assets/app-1234.js");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.get("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(r.headers.get("Cache-Control"), "public, max-age=31536000, immutable");
}

TEST_F(StaticFilesTest, EtagRevalidationAnswers304) {
  auto first = get("/assets/app-1234.js");
  auto etag = std::string(*first.headers.get("ETag"));
  auto second = get("/assets/app-1234.js", etag);
  EXPECT_EQ(second.status, 304);
  EXPECT_TRUE(second.body.empty());
}

TEST_F(StaticFilesTest, ClientRoutesGetTheAppButMissingFilesAre404) {
  EXPECT_EQ(get("/settings/profile").status, 200);
  EXPECT_EQ(get("/assets/missing.js").status, 404);
  EXPECT_EQ(get("/api/v1/nothing").status, 404);
}

TEST_F(StaticFilesTest, NeverLeavesTheRoot) {
  const auto secret = "secret-" + std::to_string(::getpid());
  for (const std::string& t :
       {"/../" + secret, "/%2e%2e/" + secret, "/assets/..%2f..%2f" + secret, "/..%5c" + secret}) {
    auto r = get(t);
    EXPECT_NE(r.status, 200) << t;
    EXPECT_EQ(r.body.find("secret"), std::string::npos) << t;
  }
}

TEST(ContentType, KnownAndUnknownExtensions) {
  EXPECT_EQ(content_type_for("a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("a.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("a.bin"), "application/octet-stream");
}

}  // namespace
}  // namespace nj::http
