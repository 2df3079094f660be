// The embedded broker with real mosquitto: it starts on a free loopback port, refuses
// anonymous and wrong-password clients, enforces per-device ACLs set over $CONTROL, and
// comes back on the same port (with its clients and roles) after being killed.
#include "mqtt/broker.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "mqtt/client.h"
#include "mqtt/dynsec.h"

namespace nj::mqtt {
namespace {

using namespace std::chrono_literals;

template <typename Pred>
bool wait_for(Pred pred, std::chrono::milliseconds timeout = 5s) {
  for (auto end = std::chrono::steady_clock::now() + timeout;
       std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(10ms)) {
    if (pred()) return true;
  }
  return pred();
}

// A client that records what it receives and its last connection state.
struct Recorder {
  std::mutex mu;
  std::vector<Message> messages;
  std::atomic<bool> up{false};
  std::string last_why;
  std::unique_ptr<Client> client;
  Recorder(const EmbeddedBroker& broker, const std::string& user, const std::string& password,
           std::chrono::milliseconds retry = 200ms) {
    ClientOptions o;
    o.host = broker.host();
    o.port = broker.port();
    o.username = user;
    o.password = password;
    o.reconnect_min = retry;
    o.reconnect_max = retry;
    client = connect(
        o,
        [this](const Message& m) {
          std::lock_guard lock(mu);
          messages.push_back(m);
        },
        [this](bool connected, const std::string& why) {
          std::lock_guard lock(mu);
          up = connected;
          last_why = why;
        });
  }
  bool got(const std::string& topic, const std::string& payload) {
    std::lock_guard lock(mu);
    for (const auto& m : messages) {
      if (m.topic == topic && m.payload == payload) return true;
    }
    return false;
  }
  std::string why() {
    std::lock_guard lock(mu);
    return last_why;
  }
};

// Device C1 (connected as `device`) reaches only its own topics: its state reaches the
// server, another device's topics neither way, and its rpc/req reaches it.
void expect_only_its_own_topics(Recorder& admin, Recorder& device) {
  device.client->subscribe("nj/v1/C1/rpc/req");
  device.client->subscribe("nj/v1/C2/rpc/req");  // another device's: refused by the ACL
  std::this_thread::sleep_for(200ms);
  device.client->publish("nj/v1/C1/state", "{\"online\":true}");
  device.client->publish("nj/v1/C2/state", "{\"online\":true}");  // not its topic
  ASSERT_TRUE(wait_for([&] { return admin.got("nj/v1/C1/state", "{\"online\":true}"); }));
  admin.client->publish("nj/v1/C1/rpc/req", "for C1");
  admin.client->publish("nj/v1/C2/rpc/req", "for C2");
  ASSERT_TRUE(wait_for([&] { return device.got("nj/v1/C1/rpc/req", "for C1"); }));
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(admin.got("nj/v1/C2/state", "{\"online\":true}"));
  EXPECT_FALSE(device.got("nj/v1/C2/rpc/req", "for C2"));
}

std::filesystem::path temp_dir() {
  auto d = std::filesystem::temp_directory_path() /
           ("nj-broker-test-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  return d;
}

TEST(EmbeddedBroker, EnforcesCredentialsAndPerDeviceAcls) {
  BrokerOptions options;
  options.dir = temp_dir();
  auto broker = EmbeddedBroker::start(options);
  ASSERT_TRUE(broker) << broker.error();
  auto& b = **broker;
  EXPECT_NE(b.port(), 0);

  Recorder admin(b, b.admin_username(), b.admin_password());
  ASSERT_TRUE(wait_for([&] { return admin.up.load(); })) << admin.why();
  admin.client->subscribe(std::string(dynsec::kResponseTopic));
  admin.client->subscribe("nj/v1/#");
  const auto acls = std::vector<dynsec::Acl>{{"publishClientSend", "nj/v1/C1/state", true},
                                             {"subscribePattern", "nj/v1/C1/rpc/req", true},
                                             {"publishClientReceive", "nj/v1/C1/rpc/req", true}};
  admin.client->publish(
      std::string(dynsec::kControlTopic),
      dynsec::batch({dynsec::default_acl_deny_all(),
                     dynsec::create_role("server", {{"publishClientSend", "nj/v1/#", true},
                                                    {"publishClientReceive", "nj/v1/#", true},
                                                    {"subscribePattern", "nj/v1/#", true}}),
                     dynsec::add_client_role(b.admin_username(), "server"),
                     dynsec::create_role("device-C1", acls),
                     dynsec::create_client("C1", "secret-1", "device-C1")}));
  ASSERT_TRUE(wait_for([&] {
    std::lock_guard lock(admin.mu);
    return !admin.messages.empty();
  }));

  Recorder device(b, "C1", "secret-1");
  ASSERT_TRUE(wait_for([&] { return device.up.load(); })) << device.why();
  expect_only_its_own_topics(admin, device);

  Recorder wrong(b, "C1", "not-the-secret", 10s);
  Recorder anonymous(b, "", "", 10s);
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(wrong.up.load());
  EXPECT_FALSE(anonymous.up.load());
  EXPECT_NE(wrong.why(), "");

  // Killed, mosquitto comes back on the same port with the same clients and roles.
  const pid_t first = b.pid();
  ASSERT_GT(first, 0);
  ::kill(first, SIGKILL);
  ASSERT_TRUE(wait_for([&] { return b.restarts() == 1 && b.pid() > 0 && b.pid() != first; }));
  ASSERT_TRUE(wait_for([&] { return device.up.load() && admin.up.load(); }, 10s));
  device.client->publish("nj/v1/C1/state", "{\"online\":\"again\"}");
  EXPECT_TRUE(wait_for([&] { return admin.got("nj/v1/C1/state", "{\"online\":\"again\"}"); }));

  // The broker's log names no client's address.
  {
    std::ifstream in(options.dir / "mosquitto.log");
    const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(log.find("127.0.0.1"), std::string::npos) << log;
    EXPECT_EQ(log.find("New client connected"), std::string::npos) << log;
  }
  broker->reset();
  std::filesystem::remove_all(options.dir);
}

// Nightjar's plugin for the cameras' logins (nightjar-devices.so): one command per camera,
// kept in memory. A camera logs in by its serial and reaches only its own topics; only the
// server's login may change the logins; a camera disabled is cut off at once; anything
// malformed is answered with an error and changes nothing; every other login is left to
// dynamic security.
TEST(DevicesPlugin, CamerasLogInByTheirSerialAndReachOnlyTheirOwnTopics) {
  BrokerOptions options;
  options.dir = temp_dir();
  options.devices_plugin = devices_plugin_beside_program();
  ASSERT_FALSE(options.devices_plugin.empty()) << "nightjar-devices.so is built beside the tests";
  options.admin_acls = {{"publishClientSend", "nj/v1/#", true},
                        {"publishClientReceive", "nj/v1/#", true},
                        {"subscribePattern", "nj/v1/#", true}};
  auto broker = EmbeddedBroker::start(options);
  ASSERT_TRUE(broker) << broker.error();
  auto& b = **broker;
  ASSERT_TRUE(b.devices_plugin());
  const std::string control = "$CONTROL/nightjar-devices/v1";
  const std::string response = control + "/response";

  Recorder admin(b, b.admin_username(), b.admin_password());
  ASSERT_TRUE(wait_for([&] { return admin.up.load(); })) << admin.why();
  admin.client->subscribe(response);
  admin.client->subscribe("nj/v1/#");
  std::this_thread::sleep_for(200ms);
  const auto answers = [&] {
    std::lock_guard lock(admin.mu);
    std::vector<nlohmann::json> out;
    for (const auto& m : admin.messages) {
      if (m.topic == response) out.push_back(nlohmann::json::parse(m.payload, nullptr, false));
    }
    return out;
  };
  const auto command = [&](const nlohmann::json& commands) {
    const size_t before = answers().size();
    admin.client->publish(control, nlohmann::json{{"commands", commands}}.dump());
    EXPECT_TRUE(wait_for([&] { return answers().size() > before; }));
    return answers().back()["responses"];
  };
  auto r = command(
      {{{"command", "setDevice"}, {"username", "C1"}, {"password", "secret-1"}, {"enabled", true}},
       {{"command", "setDevice"}, {"username", "C2"}, {"password", "secret-2"}, {"enabled", false}},
       {{"command", "setDevice"}, {"username", "nj/v1/#"}, {"password", "x"}, {"enabled", true}},
       {{"command", "setEnabled"}, {"username", "C9"}, {"enabled", true}},
       {{"command", "teleport"}, {"username", "C1"}},
       {{"command", 5}, {"username", "C1"}}});
  ASSERT_EQ(r.size(), 6u) << r.dump();
  EXPECT_FALSE(r[0].contains("error")) << r.dump();
  EXPECT_FALSE(r[1].contains("error")) << r.dump();
  EXPECT_EQ(r[2]["error"], "not a serial");
  EXPECT_EQ(r[3]["error"], "no such device");
  EXPECT_EQ(r[4]["error"], "unknown command");
  EXPECT_EQ(r[5]["error"], "no command") << "a number where a name goes";
  admin.client->publish(control, "not json");
  ASSERT_TRUE(wait_for([&] { return answers().back()["responses"][0].contains("error"); }));

  Recorder device(b, "C1", "secret-1");
  ASSERT_TRUE(wait_for([&] { return device.up.load(); })) << device.why();
  expect_only_its_own_topics(admin, device);
  device.client->subscribe("nj/v1/#");                      // refused
  device.client->publish("nj/v1/C1/rpc/req", "to itself");  // not a camera's to send
  // A camera may not change the logins.
  device.client->publish(control, nlohmann::json{{"commands",
                                                  {{{"command", "setDevice"},
                                                    {"username", "C3"},
                                                    {"password", "mine"},
                                                    {"enabled", true}}}}}
                                      .dump());
  admin.client->publish("nj/v1/C2/state", "from the server");
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(admin.got("nj/v1/C1/rpc/req", "to itself"));
  EXPECT_FALSE(device.got("nj/v1/C2/state", "from the server")) << "nj/v1/# was refused";

  Recorder wrong(b, "C1", "not-the-secret", 10s);
  Recorder disabled(b, "C2", "secret-2", 10s);
  Recorder planted(b, "C3", "mine", 10s);
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(wrong.up.load());
  EXPECT_FALSE(disabled.up.load());
  EXPECT_FALSE(planted.up.load()) << "a camera created a login";

  // Disabled: cut off at once, and refused after.
  r = command({{{"command", "setEnabled"}, {"username", "C1"}, {"enabled", false}}});
  EXPECT_FALSE(r[0].contains("error")) << r.dump();
  EXPECT_TRUE(wait_for([&] { return !device.up.load(); }));
  std::this_thread::sleep_for(600ms);  // its client retries every 200 ms
  EXPECT_FALSE(device.up.load());
  // Enabled again with a new secret: the old one no longer works.
  command({{{"command", "setDevice"},
            {"username", "C1"},
            {"password", "secret-1b"},
            {"enabled", true}}});
  Recorder renewed(b, "C1", "secret-1b");
  EXPECT_TRUE(wait_for([&] { return renewed.up.load(); })) << renewed.why();
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(device.up.load());
  command({{{"command", "deleteDevice"}, {"username", "C1"}}});
  EXPECT_TRUE(wait_for([&] { return !renewed.up.load(); }));
  broker->reset();
  std::filesystem::remove_all(options.dir);
}

TEST(EmbeddedBroker, MissingMosquittoIsAClearError) {
  BrokerOptions options;
  options.dir = temp_dir();
  options.mosquitto = "/nonexistent/mosquitto";
  auto broker = EmbeddedBroker::start(options);
  ASSERT_FALSE(broker);
  EXPECT_NE(broker.error().find("/nonexistent/mosquitto"), std::string::npos);
  std::filesystem::remove_all(options.dir);
}

}  // namespace
// Minimisation: the broker's log keeps the configured number of days; older lines (and the
// lines that continue them) are dropped, newer ones stay as they were.
TEST(EmbeddedBroker, ItsLogKeepsOnlyTheConfiguredDays) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("nj-mosquitto-log-" + std::to_string(::getpid()) + ".log");
  std::ofstream(path) << "2026-11-01T10:00:00: Warning: old\n"
                      << "  continued old\n"
                      << "2026-11-20T23:59:59: Notice: just too old\n"
                      << "2026-11-21T00:00:01: Notice: kept\n"
                      << "  continued kept\n"
                      << "2026-12-05T09:00:00: Error: today\n";
  // 2026-12-05T00:00:00Z, keeping 14 days: from 2026-11-21T00:00:00.
  prune_log(path, 14, 1'796'428'800);
  std::ifstream in(path);
  const std::string left((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(left,
            "2026-11-21T00:00:01: Notice: kept\n  continued kept\n"
            "2026-12-05T09:00:00: Error: today\n");
  std::filesystem::remove(path);
}

}  // namespace nj::mqtt
