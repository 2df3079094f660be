#include "options.h"

#include <gtest/gtest.h>

#include <vector>

namespace nj::cam {
namespace {

Result<Options, std::string> parse(std::vector<std::string_view> a) { return parse_options(a); }

TEST(CamOptions, ParsesTheDesignedFlags) {
  auto o = parse({"--server", "http://127.0.0.1:8080", "--serial", "NJ0001", "--secret-file",
                  "/tmp/s", "--simulate", "--sd-dir", "/tmp/sd"});
  ASSERT_TRUE(o) << o.error();
  EXPECT_EQ(o->serial, "NJ0001");
  EXPECT_TRUE(o->simulate);
  EXPECT_EQ(o->sd_dir, "/tmp/sd");
}

TEST(CamOptions, RejectsInconsistentOrUnsafeInput) {
  EXPECT_FALSE(parse({"--serial", "X", "--secret-file", "f"}));  // no server
  EXPECT_FALSE(parse({"--server", "ftp://x", "--serial", "X", "--secret-file", "f"}));
  EXPECT_FALSE(parse({"--server", "http://x", "--serial", "a/b", "--secret-file", "f"}));
  EXPECT_FALSE(parse({"--server", "http://x", "--serial", "X", "--secret-file", "f", "--simulate",
                      "--source", "rtsp://cam"}));
  EXPECT_FALSE(parse(
      {"--server", "http://x", "--serial", "X", "--secret-file", "f", "--source", "http://cam"}));
  EXPECT_FALSE(parse({"--bogus", "1"}));
}

}  // namespace
}  // namespace nj::cam
