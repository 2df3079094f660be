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
  EXPECT_FALSE(parse({"--serial", "X", "--secret-file", "f", "--softap", "nohost"}));
  EXPECT_FALSE(parse(
      {"--serial", "X", "--secret-file", "f", "--softap", "127.0.0.1:0", "--provision", "{}"}));
  EXPECT_FALSE(parse({"--serial", "X", "--secret-file", "f", "--softap", "127.0.0.1:0"}))
      << "the app must prove the label's code: the camera needs it";
  EXPECT_TRUE(parse({"--serial", "X", "--secret-file", "f", "--softap", "127.0.0.1:0",
                     "--pairing-code", "ABCD-EFGH"}))
      << "the cloud's address comes later, from the app";
}

TEST(CamOptions, AQrPayloadIsCheckedBeforeItIsUsed) {
  auto p = parse_provision(
      R"({"v":1,"server":"https://cloud.example","mqtt":"mqtt://cloud.example:1883",)"
      R"("token":"abc","wifi":{"ssid":"home","password":"secret"}})");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->token, "abc");
  EXPECT_EQ(p->server, "https://cloud.example");
  EXPECT_EQ(p->mqtt, "mqtt://cloud.example:1883");
  EXPECT_EQ(p->wifi_ssid, "home");
  for (const char* bad :
       {"", "[]", "{}", R"({"v":2,"server":"http://x","token":"t"})",
        R"({"v":1,"server":"http://x"})", R"({"v":1,"server":"http://x","token":""})",
        R"({"v":1,"token":"t"})", R"({"v":1,"server":"file:///etc","token":"t"})",
        R"({"v":1,"mqtt":"tcp://x","token":"t"})"}) {
    EXPECT_FALSE(parse_provision(bad)) << bad;
  }
}

}  // namespace
}  // namespace nj::cam
