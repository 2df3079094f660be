// Start-up and shutdown of `nightjar serve`: ports.json, signals, the data directory lock,
// bad configuration.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "integration/fixture.h"
#include "store/test_postgres.h"

namespace nj::testing {
namespace {

using namespace std::chrono_literals;

TEST(Lifecycle, WritesPortsJsonAndRemovesItOnSigterm) {
  ServerProcess server;
  ASSERT_TRUE(server.start()) << server.log();
  EXPECT_GT(server.http_port(), 0);
  EXPECT_TRUE(std::filesystem::exists(server.data_dir() / "ports.json"));
  // SQLite's file in the data directory; none there when the data is in PostgreSQL.
  EXPECT_EQ(std::filesystem::exists(server.data_dir() / "nightjar.db"),
            !store::testing::on_postgres());
  EXPECT_EQ(server.stop(SIGTERM), 0) << server.log();
  EXPECT_FALSE(std::filesystem::exists(server.data_dir() / "ports.json"));
  EXPECT_NE(server.log().find("shutdown.done"), std::string::npos);
}

// The embedded broker is a child of the server: listed in ports.json, and gone with the
// server however it ends, even by SIGKILL (which leaves the server no chance to clean up).
TEST(Lifecycle, TheBrokerChildEndsWithTheServer) {
  for (int signal : {SIGTERM, SIGKILL}) {
    ServerProcess server;
    ASSERT_TRUE(server.start()) << server.log();
    const auto ports = run_command("cat '" + (server.data_dir() / "ports.json").string() + "'");
    EXPECT_NE(ports.find("\"mqtt\""), std::string::npos) << ports;
    // "[m]osquitto" so that the shell running pgrep does not match itself.
    const std::string pattern =
        "[m]osquitto -c " + (server.data_dir() / "mqtt" / "mosquitto.conf").string();
    const std::string find = "pgrep -f '" + pattern + "' | wc -l";
    EXPECT_EQ(run_command(find), "1\n") << "one mosquitto for this server";
    server.stop(signal);
    bool gone = false;
    for (int i = 0; i < 50 && !gone; ++i) {
      // A killed child may stay a zombie until reaped; count only live ones.
      gone = run_command("for p in $(pgrep -f '" + pattern +
                         "'); do grep -q '^State:.*Z' /proc/$p/status || echo $p; done | wc -l") ==
             "0\n";
      if (!gone) std::this_thread::sleep_for(100ms);
    }
    EXPECT_TRUE(gone) << "signal " << signal;
  }
}

TEST(Lifecycle, SigintAlsoShutsDownCleanly) {
  ServerProcess server;
  ASSERT_TRUE(server.start()) << server.log();
  EXPECT_EQ(server.stop(SIGINT), 0) << server.log();
}

TEST(Lifecycle, InstanceIdSurvivesRestart) {
  ServerProcess server;
  ASSERT_TRUE(server.start()) << server.log();
  const auto first = server.get("/healthz").json()["instance"];
  ASSERT_EQ(server.stop(), 0);
  ASSERT_TRUE(server.start()) << server.log();
  EXPECT_EQ(server.get("/healthz").json()["instance"], first);
  EXPECT_EQ(server.stop(), 0);
}

TEST(Lifecycle, StopsWithOpenConnections) {
  ServerProcess server;
  ASSERT_TRUE(server.start()) << server.log();
  RawConnection idle(server.http_port());
  WsClient ws;
  ASSERT_EQ(ws.connect(server.http_port(), "/api/v1/health/live"), 101);
  EXPECT_EQ(server.stop(), 0) << server.log();
}

TEST(Lifecycle, BadConfigurationExitsWithAClearMessage) {
  ServerProcess server("[ports]\nhtpp = 1\n");
  EXPECT_FALSE(server.start(3s));
  EXPECT_NE(server.log().find("unknown setting 'ports.htpp'"), std::string::npos) << server.log();
  ServerProcess bad_flag("", {"--http-port", "nope"});
  EXPECT_FALSE(bad_flag.start(3s));
  EXPECT_NE(bad_flag.log().find("--http-port"), std::string::npos) << bad_flag.log();
}

TEST(Lifecycle, PortInUseFailsClearly) {
  ServerProcess first;
  ASSERT_TRUE(first.start()) << first.log();
  ServerProcess second("", {"--http-port", std::to_string(first.http_port())});
  EXPECT_FALSE(second.start(3s));
  EXPECT_NE(second.log().find("cannot listen"), std::string::npos) << second.log();
  EXPECT_EQ(first.stop(), 0);
}

}  // namespace
}  // namespace nj::testing
