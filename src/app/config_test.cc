#include "app/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <vector>

namespace nj::app {
namespace {

Result<Config, std::string> parse(std::vector<std::string_view> args) {
  return parse_serve_args(args);
}

TEST(Config, DefaultsMatchDesign) {
  auto c = parse({});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->listen, "127.0.0.1");
  EXPECT_EQ(c->http_port, 8080);
  EXPECT_EQ(c->rtsp_port, 8554);
  EXPECT_EQ(c->mqtt_port, 1883);
  EXPECT_FALSE(c->demo);
  EXPECT_GE(c->threads, 1u);
}

TEST(Config, FlagsSetEverything) {
  auto c = parse({"--data", "/tmp/x", "--listen", "::1", "--http-port", "0", "--rtsp-port", "1",
                  "--mqtt-port", "2", "--demo", "--threads", "3", "--log-format", "json"});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->data_dir, "/tmp/x");
  EXPECT_EQ(c->listen, "::1");
  EXPECT_EQ(c->http_port, 0);
  EXPECT_EQ(c->rtsp_port, 1);
  EXPECT_EQ(c->mqtt_port, 2);
  EXPECT_TRUE(c->demo);
  EXPECT_EQ(c->threads, 3u);
  EXPECT_EQ(c->log.format, log::Format::kJson);
}

// The demo account's password is public: the demo stays on loopback unless asked.
TEST(Config, DemoModeIsLoopbackOnlyUnlessTheOperatorSaysOtherwise) {
  for (const char* local : {"127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"}) {
    EXPECT_TRUE(parse({"--demo", "--listen", local})) << local;
  }
  auto open = parse({"--demo", "--listen", "0.0.0.0"});
  ASSERT_FALSE(open);
  EXPECT_NE(open.error().find("--demo-public"), std::string::npos) << open.error();
  EXPECT_FALSE(parse({"--demo", "--listen", "192.0.2.5"}));
  EXPECT_FALSE(parse({"--demo", "--listen", "::"}));
  EXPECT_TRUE(parse({"--demo", "--demo-public", "--listen", "0.0.0.0"}));
  EXPECT_TRUE(parse({"--listen", "0.0.0.0"})) << "no demo, no restriction";
}

TEST(Config, BadFlagsAreNamed) {
  auto unknown = parse({"--htp-port", "1"});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().find("--htp-port"), std::string::npos);
  auto range = parse({"--http-port", "70000"});
  ASSERT_FALSE(range);
  EXPECT_NE(range.error().find("--http-port"), std::string::npos);
  EXPECT_FALSE(parse({"--http-port", "12x"}));
  EXPECT_FALSE(parse({"--data"}));
  EXPECT_FALSE(parse({"--log-format", "xml"}));
}

TEST(Config, TomlIsAppliedAndFlagsWin) {
  const auto path = std::filesystem::temp_directory_path() / "nj-config-test.toml";
  std::ofstream(path) << R"(
data = "/srv/nightjar"
listen = "0.0.0.0"
[ports]
http = 9000
rtsp = 9554
[http]
body_limit_bytes = 2048
idle_timeout_ms = 1500
[log]
level = "debug"
)";
  const std::string p = path.string();
  auto c = parse({"--http-port", "9100", "--config", p});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->data_dir, "/srv/nightjar");
  EXPECT_EQ(c->listen, "0.0.0.0");
  EXPECT_EQ(c->http_port, 9100);  // the flag, though it came before --config
  EXPECT_EQ(c->rtsp_port, 9554);
  EXPECT_EQ(c->http.body_limit, 2048u);
  EXPECT_EQ(c->http.idle_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(c->log.level, "debug");
  std::filesystem::remove(path);
}

TEST(Config, TomlErrorsAreClear) {
  Config c = default_config();
  auto typo = apply_toml(c, "[ports]\nhtpp = 1\n", "x.toml");
  ASSERT_FALSE(typo);
  EXPECT_EQ(typo.error(), "unknown setting 'ports.htpp'");
  auto type = apply_toml(c, "listen = 5\n", "x.toml");
  ASSERT_FALSE(type);
  EXPECT_EQ(type.error(), "listen must be a string");
  auto range = apply_toml(c, "[ports]\nhttp = 99999\n", "x.toml");
  ASSERT_FALSE(range);
  auto syntax = apply_toml(c, "listen = \n", "x.toml");
  ASSERT_FALSE(syntax);
  EXPECT_TRUE(syntax.error().starts_with("x.toml:1:")) << syntax.error();
  EXPECT_FALSE(parse({"--config", "/nonexistent/nightjar.toml"}));
  auto logins = apply_toml(c, "[mqtt]\ndevice_logins = \"ldap\"\n", "x.toml");
  ASSERT_FALSE(logins);
  EXPECT_EQ(logins.error(), "mqtt.device_logins must be \"plugin\", \"dynsec\" or \"hook\"");
  EXPECT_FALSE(apply_toml(c, "[mqtt]\ndevice_logins = \"hook\"\n", "x.toml"));  // no broker
  EXPECT_FALSE(
      apply_toml(c, "[mqtt]\nexternal_host = \"10.0.0.5\"\ndevice_logins = \"hook\"\n", "x.toml"));
  EXPECT_TRUE(apply_toml(c,
                         "[mqtt]\nexternal_host = \"10.0.0.5\"\ndevice_logins = \"hook\"\n"
                         "hook_token_file = \"/etc/nightjar/hook-token\"\n",
                         "x.toml"));
  EXPECT_EQ(c.mqtt.hook_token_file, "/etc/nightjar/hook-token");
  EXPECT_TRUE(apply_toml(c, "[mqtt]\ndevice_logins = \"plugin\"\n", "x.toml"));
  EXPECT_EQ(c.mqtt.device_logins, "plugin");
}

TEST(Config, ExampleFileParsesToTheDefaults) {
  std::ifstream in(NJ_EXAMPLE_CONFIG);
  ASSERT_TRUE(in) << NJ_EXAMPLE_CONFIG;
  std::stringstream text;
  text << in.rdbuf();
  Config c = default_config();
  auto r = apply_toml(c, text.str(), "nightjar.example.toml");
  ASSERT_TRUE(r) << r.error();
  const Config d = default_config();
  EXPECT_EQ(c.data_dir, d.data_dir);
  EXPECT_EQ(c.http_port, d.http_port);
  EXPECT_EQ(c.http.header_limit, d.http.header_limit);
  EXPECT_EQ(c.http.body_limit, d.http.body_limit);
  EXPECT_EQ(c.http.idle_timeout, d.http.idle_timeout);
  EXPECT_EQ(c.http.max_connections, d.http.max_connections);
  EXPECT_EQ(c.http.websocket_message_limit, d.http.websocket_message_limit);
  EXPECT_EQ(c.log.level, d.log.level);
}

TEST(Config, UrlsAreShownWithoutTheirCredentials) {
  EXPECT_EQ(without_userinfo("smtp://user:p%40ss@mail.example.org:25"),
            "smtp://mail.example.org:25");
  EXPECT_EQ(without_userinfo("smtps://a@b@mail.example.org:465/x?y@z"),
            "smtps://mail.example.org:465/x?y@z");
  EXPECT_EQ(without_userinfo("smtp://mail.example.org"), "smtp://mail.example.org");
  EXPECT_EQ(without_userinfo("smtp://mail.example.org/a@b"), "smtp://mail.example.org/a@b");
}

}  // namespace
}  // namespace nj::app
