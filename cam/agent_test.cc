// The agent against a real mosquitto (the embedded broker), with a device client made the
// way the server makes them: it comes online with a retained state, answers RPCs, refuses
// bad ones clearly, keeps its settings, and says offline when it stops.
#include "agent.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "device/broker_link.h"
#include "mqtt/broker.h"

namespace nj::cam {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

template <typename Pred>
bool wait_for(Pred pred, std::chrono::milliseconds timeout = 5s) {
  for (auto end = std::chrono::steady_clock::now() + timeout;
       std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(10ms)) {
    if (pred()) return true;
  }
  return pred();
}

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("nj-agent-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    mqtt::BrokerOptions options;
    options.dir = dir_ / "mqtt";
    options.admin_acls = device::server_acls();
    auto broker = mqtt::EmbeddedBroker::start(options);
    ASSERT_TRUE(broker) << broker.error();
    broker_ = std::move(*broker);
    mqtt::ClientOptions admin;
    admin.host = broker_->host();
    admin.port = broker_->port();
    admin.username = broker_->admin_username();
    admin.password = broker_->admin_password();
    cloud_ = mqtt::connect(admin,
                           [this](const mqtt::Message& m) {
                             std::lock_guard lock(mu_);
                             received_.push_back(m);
                           },
                           {});
    cloud_->subscribe("nj/v1/#");
    ASSERT_TRUE(wait_for([&] { return cloud_->connected(); }));
    cloud_->publish(std::string(mqtt::dynsec::kControlTopic),
                    mqtt::dynsec::batch(device::device_role_commands("CAM-1", "s3cret", true)));
    std::this_thread::sleep_for(200ms);
  }
  void TearDown() override {
    cloud_.reset();
    broker_.reset();
    std::filesystem::remove_all(dir_);
  }
  // CAM-1 on this broker, with the secret it was provisioned with.
  AgentOptions options() const {
    AgentOptions o;
    o.serial = "CAM-1";
    o.secret = "s3cret";
    o.mqtt_host = broker_->host();
    o.mqtt_port = broker_->port();
    return o;
  }
  // The last message on a topic, if any.
  std::optional<json> last(const std::string& topic) {
    std::lock_guard lock(mu_);
    for (auto it = received_.rbegin(); it != received_.rend(); ++it) {
      if (it->topic == topic) return json::parse(it->payload, nullptr, false);
    }
    return std::nullopt;
  }
  json rpc(const std::string& id, const std::string& method, json params) {
    cloud_->publish("nj/v1/CAM-1/rpc/req",
                    json{{"id", id}, {"method", method}, {"params", params}}.dump());
    std::optional<json> answer;
    wait_for([&] {
      auto r = last("nj/v1/CAM-1/rpc/res");
      if (r && r->value("id", "") == id) answer = r;
      return answer.has_value();
    });
    return answer.value_or(json());
  }

  std::filesystem::path dir_;
  std::unique_ptr<mqtt::EmbeddedBroker> broker_;
  std::unique_ptr<mqtt::Client> cloud_;
  std::mutex mu_;
  std::vector<mqtt::Message> received_;
};

TEST_F(AgentTest, ComesOnlineAnswersRpcsAndSaysOffline) {
  net::IoPool pool(1);
  pool.start();
  media::hub::Hub hub;
  AgentOptions o = options();
  o.state_dir = dir_ / "cam";
  {
    Agent agent(pool, hub, o, "camera");
    ASSERT_TRUE(wait_for([&] {
      auto s = last("nj/v1/CAM-1/state");
      return s && s->value("online", false);
    }));
    EXPECT_TRUE(agent.connected());

    auto r = rpc("1", "config.set", {{"night_mode", "on"}, {"motion_sensitivity", 70}});
    EXPECT_EQ(r["result"]["settings"]["night_mode"], "on") << r.dump();
    r = rpc("2", "config.set", {{"night_mode", "sometimes"}, {"mirror", true}});
    EXPECT_EQ(r["error"]["code"], "invalid_params") << r.dump();
    EXPECT_EQ(agent.settings()["mirror"], false) << "a bad value changes nothing";
    r = rpc("3", "teleport", json::object());
    EXPECT_EQ(r["error"]["code"], "unsupported") << r.dump();
    r = rpc("4", "stream.start", {{"url", "http://elsewhere/"}});
    EXPECT_EQ(r["error"]["code"], "invalid_params") << r.dump();
    // A reboot: answered, then offline, then online again by itself.
    r = rpc("5", "reboot", json::object());
    EXPECT_TRUE(r.contains("result")) << r.dump();
    ASSERT_TRUE(wait_for([&] {
      auto s = last("nj/v1/CAM-1/state");
      return s && !s->value("online", true);
    }));
    ASSERT_TRUE(wait_for([&] {
      auto s = last("nj/v1/CAM-1/state");
      return s && s->value("online", false);
    }));
    EXPECT_EQ(rpc("6", "config.set", {{"mirror", true}})["result"]["settings"]["mirror"], true);
  }
  // Stopped: offline, retained.
  ASSERT_TRUE(wait_for([&] {
    auto s = last("nj/v1/CAM-1/state");
    return s && !s->value("online", true);
  }));
  // The settings were kept for the next start.
  {
    Agent again(pool, hub, o, "camera");
    EXPECT_EQ(again.settings().value("motion_sensitivity", 0), 70);
  }
  pool.shutdown();
}

TEST_F(AgentTest, MotionIsReportedAsEventsUnlessDetectionIsOff) {
  net::IoPool pool(1);
  pool.start();
  media::hub::Hub hub;
  AgentOptions o = options();
  {
    Agent agent(pool, hub, o, "camera");
    ASSERT_TRUE(wait_for([&] { return agent.connected(); }));
    const auto events = [&] {
      std::lock_guard lock(mu_);
      std::vector<json> out;
      for (const auto& m : received_) {
        if (m.topic == "nj/v1/CAM-1/event") out.push_back(json::parse(m.payload));
      }
      return out;
    };
    agent.motion(true);
    agent.motion(true);  // still the same motion: said once
    agent.motion(false);
    ASSERT_TRUE(wait_for([&] { return events().size() == 2; })) << events().size();
    EXPECT_EQ(events()[0]["kind"], "motion");
    EXPECT_EQ(events()[0]["state"], "start");
    EXPECT_GT(events()[0]["score"].get<double>(), 0);
    EXPECT_EQ(events()[1]["state"], "end");
    // Detection switched off in the app: nothing more is said.
    EXPECT_TRUE(rpc("1", "config.set", {{"motion_sensitivity", 0}}).contains("result"));
    agent.motion(true);
    agent.motion(false);
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(events().size(), 2u);
  }
  pool.shutdown();
}

TEST_F(AgentTest, PrivacyModeSendsNothingAndSaysSoInItsState) {
  net::IoPool pool(1);
  pool.start();
  media::hub::Hub hub;
  AgentOptions o = options();
  std::mutex seen_mu;
  std::vector<json> seen;  // what on_settings was told
  o.on_settings = [&](const device_protocol::CameraSettings& s) {
    std::lock_guard lock(seen_mu);
    seen.push_back(device_protocol::to_json(s));
  };
  {
    Agent agent(pool, hub, o, "camera");
    ASSERT_TRUE(wait_for([&] { return agent.connected(); }));
    auto r = rpc("1", "config.set", {{"privacy_mode", true}, {"flip", true}});
    ASSERT_TRUE(r.contains("result")) << r.dump();
    // The retained state says what the camera does now.
    ASSERT_TRUE(wait_for([&] {
      auto s = last("nj/v1/CAM-1/state");
      return s && s->contains("settings") && (*s)["settings"].value("privacy_mode", false);
    }));
    EXPECT_EQ((*last("nj/v1/CAM-1/state"))["settings"]["flip"], true);
    {
      std::lock_guard lock(seen_mu);
      ASSERT_EQ(seen.size(), 2u) << "at start and after the change";
      EXPECT_EQ(seen.back()["privacy_mode"], true);
    }
    // No stream leaves it, and it reports no motion.
    r = rpc("2", "stream.start", {{"url", "rtsp://127.0.0.1:9/push/CAM-1"}});
    EXPECT_EQ(r["error"]["code"], "privacy_mode") << r.dump();
    EXPECT_FALSE(agent.pushing());
    agent.motion(true);
    std::this_thread::sleep_for(300ms);
    EXPECT_FALSE(last("nj/v1/CAM-1/event"));
    agent.motion(false);
    // Turned off: streaming is allowed again.
    EXPECT_TRUE(rpc("3", "config.set", {{"privacy_mode", false}}).contains("result"));
    r = rpc("4", "stream.start", {{"url", "rtsp://127.0.0.1:9/push/CAM-1"}});
    EXPECT_EQ(r["result"]["streaming"], true) << r.dump();
  }
  pool.shutdown();
}

// At a hand-over the node that takes the camera has seen the nodes change; the one that had
// it may not have yet, and asks again by its older list. The camera follows the newer ask
// and refuses the older one for a while, so it is not pulled back and forth.
TEST_F(AgentTest, AnAskByAnOlderListOfNodesIsRefusedForAWhile) {
  net::IoPool pool(1);
  pool.start();
  media::hub::Hub hub;
  AgentOptions o = options();
  o.fence_window = 1500ms;
  {
    Agent agent(pool, hub, o, "camera");
    ASSERT_TRUE(wait_for([&] { return agent.connected(); }));
    const std::string c = "rtsp://127.0.0.1:9/push/CAM-1?token=c";
    const std::string b = "rtsp://127.0.0.1:11/push/CAM-1?token=b";
    auto r = rpc("1", "stream.start", {{"url", c}, {"epoch", 1000}});
    ASSERT_EQ(r["result"]["streaming"], true) << r.dump();
    r = rpc("2", "stream.start", {{"url", b}, {"epoch", 2000}});
    ASSERT_EQ(r["result"]["streaming"], true) << r.dump();
    EXPECT_EQ(agent.push_url(), b);
    // The old holder, still by its older list: neither its start nor its stop is followed.
    r = rpc("3", "stream.start", {{"url", c}, {"epoch", 1500}});
    EXPECT_EQ(r["error"]["code"], "superseded") << r.dump();
    r = rpc("4", "stream.stop", {{"epoch", 1500}});
    EXPECT_EQ(r["error"]["code"], "superseded") << r.dump();
    EXPECT_EQ(agent.push_url(), b);
    r = rpc("5", "stream.start", {{"url", c}, {"epoch", "soon"}});
    EXPECT_EQ(r["error"]["code"], "invalid_params") << r.dump();
    EXPECT_EQ(agent.push_url(), b);
    // The new holder's own asks (the same epoch or later) are followed.
    r = rpc("6", "stream.start", {{"url", b + "2"}, {"epoch", 2000}});
    EXPECT_EQ(r["result"]["streaming"], true) << r.dump();
    EXPECT_EQ(agent.push_url(), b + "2");
    // Past the window an older epoch is followed again (a server whose clock went back).
    std::this_thread::sleep_for(1600ms);
    r = rpc("7", "stream.start", {{"url", c}, {"epoch", 1500}});
    EXPECT_EQ(r["result"]["streaming"], true) << r.dump();
    EXPECT_EQ(agent.push_url(), c);
    // An ask without an epoch (a server from before) is always followed.
    r = rpc("8", "stream.stop", json::object());
    EXPECT_TRUE(r.contains("result")) << r.dump();
    EXPECT_EQ(agent.push_url(), "");
  }
  pool.shutdown();
}

TEST_F(AgentTest, AWrongSecretNeverConnects) {
  net::IoPool pool(1);
  pool.start();
  media::hub::Hub hub;
  AgentOptions o = options();
  o.secret = "guess";
  {
    Agent agent(pool, hub, o, "camera");
    std::this_thread::sleep_for(600ms);
    EXPECT_FALSE(agent.connected());
    EXPECT_FALSE(last("nj/v1/CAM-1/state"));
  }
  pool.shutdown();
}

}  // namespace
}  // namespace nj::cam
