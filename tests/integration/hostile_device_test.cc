// A device that lies: with its own valid credentials on the real embedded mosquitto, it
// publishes type-confused and random JSON on every topic it may use and answers every RPC
// with nonsense. The server must stay up, refuse and count each message, and keep serving
// everyone else: a normal camera beside it is watched and recorded without a gap.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <random>
#include <thread>

#include "integration/fixture.h"
#include "mqtt/client.h"

namespace nj::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// Payloads a careless or hostile camera might send, each well-formed JSON (or not JSON at
// all) with the wrong types, signs or sizes for the topic.
std::vector<std::string> confused_reports() {
  return {R"({"online": "yes"})",
          R"({"online": true, "ip": 7, "firmware": ["1"]})",
          R"({"online": {"deep": [1, 2]}})",
          R"({"kind": 7, "state": "start"})",
          R"({"kind": "motion", "state": true, "score": "high"})",
          R"({"kind": "motion", "state": "start", "score": 1e400})",
          R"({"bytes_sent": -5})",
          R"({"bytes_sent": 1099511627776})",
          R"({"bytes_sent": "many", "sd": "full"})",
          R"({"sd": {"capacity_bytes": -1, "used_bytes": "x", "health": 3}})",
          R"({"token": 42})",
          R"({"token": {"nested": ["a"]}})",
          R"([1, "two", null])",
          R"("just a string")",
          R"(null)",
          std::string(200'000, '['),
          "\xff\xfe not json at all",
          ""};
}

// Answers to an RPC with this id: every one wrong for any method.
std::vector<std::string> confused_answers(const std::string& id) {
  const json jid = id;
  // Malformed answers first; then one that is well-formed but wrong for every method with a
  // result (the methods whose result means nothing take it as done).
  return {json{{"id", jid}, {"result", 5}}.dump(),
          json{{"id", jid}, {"result", "ok"}}.dump(),
          json{{"id", jid}, {"error", "broken"}}.dump(),
          json{{"id", jid}, {"error", {{"code", 5}, {"message", {1, 2}}}}}.dump(),
          json{{"id", jid},
               {"result",
                {{"streaming", "maybe"},
                 {"settings", "night"},
                 {"recordings", 5},
                 {"duration_ms", "long"}}}}
              .dump(),
          json{{"id", jid}, {"result", {{"settings", "night"}}}}.dump(),
          json{{"id", jid}, {"result", {{"settings", {{"night_mode", 3}}}}}}.dump(),
          json{{"id", jid}, {"result", {{"recordings", {{"name", 1}}}}}}.dump(),
          json{{"id", jid},
               {"result",
                {{"recordings",
                  {{{"name", "../../etc"}, {"start_ms", 1}, {"end_ms", 2}, {"bytes", -3}}}}}}}
              .dump(),
          json{{"id", jid}, {"result", {{"duration_ms", "long"}, {"start_ms", -1}}}}.dump(),
          json{{"id", jid}, {"result", {{"streaming", "maybe"}}}}.dump(),
          json{{"id", 12345}, {"result", json::object()}}.dump()};
}

// Random JSON of any shape, sometimes with the topic's own field names.
json random_json(std::mt19937& rng, int depth = 0) {
  static const char* keys[] = {
      "online",     "ip",         "firmware",    "kind",       "state",
      "score",      "bytes_sent", "sd",          "token",      "id",
      "result",     "error",      "settings",    "recordings", "capacity_bytes",
      "used_bytes", "health",     "duration_ms", "x"};
  switch (std::uniform_int_distribution<int>(0, depth > 4 ? 5 : 7)(rng)) {
    case 0:
      return nullptr;
    case 1:
      return std::uniform_int_distribution<int>(0, 1)(rng) == 1;
    case 2:
      return std::uniform_int_distribution<int64_t>(INT64_MIN, INT64_MAX)(rng);
    case 3:
      return std::uniform_real_distribution<double>(-1e30, 1e30)(rng);
    case 4:
      return std::string(std::uniform_int_distribution<size_t>(0, 300)(rng), 'a');
    case 5:
      return std::numeric_limits<uint64_t>::max();
    case 6: {
      json a = json::array();
      for (int i = std::uniform_int_distribution<int>(0, 4)(rng); i > 0; --i) {
        a.push_back(random_json(rng, depth + 1));
      }
      return a;
    }
    default: {
      json o = json::object();
      for (int i = std::uniform_int_distribution<int>(0, 5)(rng); i > 0; --i) {
        o[keys[std::uniform_int_distribution<size_t>(0, std::size(keys) - 1)(rng)]] =
            random_json(rng, depth + 1);
      }
      return o;
    }
  }
}

// The lying device: connects with its own credentials, answers RPCs by `answer`.
class HostileDevice {
 public:
  using Answer = std::function<std::vector<std::string>(const std::string& id)>;
  HostileDevice(uint16_t port, const std::string& serial, const std::string& secret, Answer answer)
      : serial_(serial), answer_(std::move(answer)) {
    mqtt::ClientOptions o;
    o.port = port;
    o.client_id = serial;
    o.username = serial;
    o.password = secret;
    o.reconnect_min = 100ms;
    o.reconnect_max = 500ms;
    client_ = mqtt::connect(std::move(o), [this](const mqtt::Message& m) { on_request(m); });
    client_->subscribe("nj/v1/" + serial + "/rpc/req");
  }
  bool connected() const { return client_->connected(); }
  void publish(const std::string& leaf, const std::string& payload) {
    client_->publish("nj/v1/" + serial_ + "/" + leaf, payload, 1, false);
  }
  int requests() const { return requests_; }

 private:
  void on_request(const mqtt::Message& m) {
    const auto req = json::parse(m.payload, nullptr, false);
    if (!req.is_object() || !req.contains("id") || !req["id"].is_string()) return;
    ++requests_;
    for (const auto& a : answer_(req["id"].get<std::string>())) {
      client_->publish("nj/v1/" + serial_ + "/rpc/res", a, 1, false);
    }
  }
  std::string serial_;
  Answer answer_;
  std::atomic<int> requests_{0};
  std::unique_ptr<mqtt::Client> client_;
};

class HostileDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.start()) << server_.log();
    owner_ = sign_up(server_, "owner@example.org");
    ASSERT_FALSE(owner_.empty());
    const auto ports =
        json::parse(run_command("cat '" + (server_.data_dir() / "ports.json").string() + "'"));
    mqtt_port_ = static_cast<uint16_t>(ports["mqtt"].get<int>());
  }
  void TearDown() override { EXPECT_EQ(server_.stop(), 0) << server_.log(); }

  HttpResult call(const std::string& method, const std::string& path, const json& body = nullptr) {
    return call_as(server_, owner_, method, path, body);
  }
  std::string add_device(const std::string& serial) { return testing::add_device(server_, serial); }
  std::string bind(const std::string& serial) { return bind_by_label(server_, serial, owner_); }
  bool alive() { return server_.running() && server_.get("/healthz").status == 200; }
  uint64_t rejected(const std::string& kind) {
    const auto text = server_.get("/metrics").body;
    uint64_t total = 0;
    const std::string series = "nightjar_device_input_rejected_total{kind=\"" + kind + "\"";
    for (size_t at = text.find(series); at != std::string::npos; at = text.find(series, at + 1)) {
      const auto space = text.find(' ', text.find('}', at));
      total += std::stoull(text.substr(space + 1));
    }
    return total;
  }

  ServerProcess server_{"[devices]\nidle_stream_grace_ms = 3000\n"};
  std::string owner_;
  uint16_t mqtt_port_ = 0;
};

// Regression (#12, 1): one wrong type on any topic used to abort the whole server.
TEST_F(HostileDeviceTest, TypeConfusedMessagesOnEveryTopicAndRpcAreRefusedAndCounted) {
  const auto secret = add_device("HOSTILE-1");
  HostileDevice device(mqtt_port_, "HOSTILE-1", secret, confused_answers);
  ASSERT_TRUE(wait_for([&] { return device.connected(); }, 10s)) << server_.log();

  // Registered but never bound: already able to talk, so already refused safely.
  for (const char* leaf : {"state", "event", "telemetry", "claim", "rpc/res"}) {
    for (const auto& payload : confused_reports()) device.publish(leaf, payload);
    ASSERT_TRUE(alive()) << "after confused " << leaf << " messages\n" << server_.log();
  }
  // Every message is refused and counted (they arrive in order, but on the broker's time).
  const std::vector<std::string> kinds = {"state", "event", "telemetry", "claim", "rpc_response"};
  std::string metrics;
  ASSERT_TRUE(wait_for(
      [&] {
        for (const auto& kind : kinds) {
          if (rejected(kind) < 10) return false;
        }
        metrics = server_.get("/metrics").body;
        return metrics.find(R"(reason="too_deep")") != std::string::npos;
      },
      10s))
      << server_.get("/metrics").body;
  EXPECT_NE(
      metrics.find(R"(nightjar_device_input_rejected_total{kind="state",reason="wrong_type"})"),
      std::string::npos);
  EXPECT_NE(metrics.find(
                R"(nightjar_device_input_rejected_total{kind="telemetry",reason="out_of_range"})"),
            std::string::npos)
      << "negative and absurd byte counts";

  // Bound and online, it answers every RPC with nonsense: each route answers 502 (or what
  // the device's well-formed error code says), and nothing else changes.
  const auto id = bind("HOSTILE-1");
  ASSERT_FALSE(id.empty());
  device.publish("state", R"({"online": true, "firmware": "evil 1.0"})");
  ASSERT_TRUE(wait_for(
      [&] { return call("GET", "/api/v1/devices/" + id).json().value("online", false); }, 5s));
  const std::string base = "/api/v1/devices/" + id;
  const struct {
    const char* method;
    std::string path;
    json body;
  } routes[] = {
      {"PATCH", base, {{"settings", {{"night_mode", "on"}}}}},
      {"GET", base + "/sdcard", nullptr},
      {"POST", base + "/sdcard/format", {{"confirm", true}}},
      {"DELETE", base + "/sdcard/recordings/1-2.mp4", nullptr},
      {"POST", base + "/sdcard/recordings/1-2.mp4/play", json::object()},
      {"POST", base + "/reboot", nullptr},
      {"POST", base + "/stream", nullptr},
  };
  for (const auto& r : routes) {
    const auto before = rejected("rpc_result") + rejected("rpc_response");
    auto answer = call(r.method, r.path, r.body);
    const bool result_ignored = r.method == std::string("DELETE") || r.path.ends_with("/format") ||
                                r.path.ends_with("/reboot");
    if (result_ignored) {
      EXPECT_TRUE(answer.status == 204 || answer.status == 202) << r.path << ": " << answer.body;
    } else {
      EXPECT_EQ(answer.status, 502) << r.path << ": " << answer.body;
      EXPECT_EQ(answer.json()["error"]["code"], "device_error") << answer.body;
    }
    ASSERT_TRUE(alive()) << r.method << " " << r.path << "\n" << server_.log();
    EXPECT_TRUE(
        wait_for([&] { return rejected("rpc_result") + rejected("rpc_response") > before; }, 3s))
        << r.path;
  }
  EXPECT_GE(device.requests(), 7);
  // The camera's name and settings are untouched by what it said.
  const auto d = call("GET", base).json();
  EXPECT_EQ(d["firmware"], "evil 1.0");
  EXPECT_FALSE(d.contains("sd_card")) << "no absurd card state was kept";
  // And settings the camera would never accept are refused before they reach it.
  auto bad = call("PATCH", base, {{"settings", {{"volume", 11}}}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(bad.json()["error"]["code"], "invalid_field");
}

// Acceptance (#12): for a minute, a hostile device floods every topic and RPC answer with
// random and type-confused JSON while a normal camera is watched and recorded. The server
// stays up, the viewer gets media every second, and the recording has no gap.
TEST_F(HostileDeviceTest, AMinuteOfHostileTrafficDoesNotDisturbANormalCamera) {
  // The normal camera, recorded continuously.
  const auto normal_secret = add_device("NORMAL-1");
  std::ofstream(server_.data_dir() / "normal-secret") << normal_secret << "\n";
  const auto normal = bind("NORMAL-1");
  ASSERT_NE(server_.admin("plan create --name week --days 7 --mode continuous"), "");
  ASSERT_NE(server_.admin("plan grant --serial NORMAL-1 --plan week --for-days 30"), "");
  const std::string cam = std::filesystem::path(NJ_BIN_PATH).parent_path() / "nightjar-cam";
  BackgroundCommand camera(
      "exec '" + cam + "' --serial NORMAL-1 --secret-file '" +
      (server_.data_dir() / "normal-secret").string() +
      "' --simulate --size 320x240 --fps 10 --gop-seconds 1 --mqtt mqtt://127.0.0.1:" +
      std::to_string(mqtt_port_) + " >> '" + (server_.data_dir() / "normal.log").string() +
      "' 2>&1");
  ASSERT_TRUE(wait_for(
      [&] { return call("POST", "/api/v1/devices/" + normal + "/stream").status == 200; }, 20s))
      << server_.log();

  // The hostile one, bound to the same owner so its RPCs are reachable too.
  const auto secret = add_device("HOSTILE-2");
  std::mt19937 answers_rng(7);
  std::mutex answers_mu;
  HostileDevice device(mqtt_port_, "HOSTILE-2", secret, [&](const std::string& id) {
    std::lock_guard lock(answers_mu);
    auto all = confused_answers(id);
    json junk = random_json(answers_rng);
    if (junk.is_object()) junk["id"] = id;
    all.push_back(junk.dump());
    return all;
  });
  ASSERT_TRUE(wait_for([&] { return device.connected(); }, 10s));
  const auto hostile = bind("HOSTILE-2");

  WsClient viewer;
  ASSERT_EQ(viewer.connect(server_.http_port(), "/api/v1/devices/" + normal + "/live",
                           {{"Authorization", "Bearer " + owner_}}),
            101);
  const auto start_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  std::atomic<bool> stop{false};
  std::thread flood([&] {
    std::mt19937 rng(12);
    const auto reports = confused_reports();
    const char* leaves[] = {"state", "event", "telemetry", "claim", "rpc/res"};
    while (!stop) {
      for (const char* leaf : leaves) {
        device.publish(leaf, reports[rng() % reports.size()]);
        device.publish(leaf, random_json(rng).dump());
      }
      std::this_thread::sleep_for(10ms);  // ~1,000 messages a second
    }
  });
  std::thread callers([&] {
    const std::string base = "/api/v1/devices/" + hostile;
    while (!stop) {
      device.publish("state", R"({"online": true})");
      (void)call("GET", base + "/sdcard");
      (void)call("PATCH", base, {{"settings", {{"mirror", true}}}});
      (void)call("POST", base + "/sdcard/recordings/1-2.mp4/play", json::object());
      std::this_thread::sleep_for(200ms);
    }
  });

  // A minute of viewing: every second has media.
  std::vector<int> per_second(60, 0);
  const auto began = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - began < 60s) {
    auto m = viewer.receive(2s);
    ASSERT_TRUE(m) << "the viewer lost the stream after "
                   << std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now() - began)
                          .count()
                   << " s\n"
                   << server_.log();
    const auto s =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - began)
            .count();
    if (s < 60) ++per_second[static_cast<size_t>(s)];
  }
  stop = true;
  flood.join();
  callers.join();
  for (size_t s = 0; s < per_second.size(); ++s) EXPECT_GT(per_second[s], 0) << "second " << s;
  ASSERT_TRUE(alive()) << server_.log();
  EXPECT_GT(rejected("state") + rejected("event") + rejected("telemetry") + rejected("claim") +
                rejected("rpc_response") + rejected("rpc_result"),
            10'000u);

  // The recording covers the whole minute in one span (the index is saved every 2 s).
  const auto end_ms = start_ms + 60'000;
  json r;
  ASSERT_TRUE(wait_for(
      [&] {
        r = call("GET", "/api/v1/devices/" + normal +
                            "/recordings?from=" + std::to_string(start_ms - 600'000) +
                            "&to=" + std::to_string(end_ms + 60'000))
                .json();
        return r.contains("spans") && !r["spans"].empty();
      },
      10s));
  ASSERT_EQ(r["spans"].size(), 1u) << "no gap: " << r.dump();
  // The recorder starts at the stream's first keyframe (a GOP is 1 s), woken just before.
  EXPECT_LE(parse_rfc3339_ms(r["spans"][0]["start"]), start_ms + 2'000) << r.dump();
  EXPECT_GE(parse_rfc3339_ms(r["spans"][0]["end"]), end_ms - 3'000) << r.dump();
  std::printf("hostile minute: %d RPCs answered with nonsense, viewer messages per second min %d\n",
              device.requests(), *std::min_element(per_second.begin(), per_second.end()));
}

}  // namespace
}  // namespace nj::testing

namespace nj::testing {
namespace {

// Acceptance (#14): one camera floods 10,000 motion events through the real broker while
// another reports a visit every 2 s. The flood becomes a handful of events (10 at once, then
// one a second, the rest joining the latest), the other camera's visits are each told to the
// owner's open tab within a second, and the server stays up.
TEST_F(HostileDeviceTest, AFloodOfTenThousandEventsIsBoundedAndOthersArriveOnTime) {
  const auto loud_secret = add_device("LOUD-1");
  const auto calm_secret = add_device("CALM-1");
  HostileDevice loud(mqtt_port_, "LOUD-1", loud_secret,
                     [](const std::string&) { return std::vector<std::string>{}; });
  HostileDevice calm(mqtt_port_, "CALM-1", calm_secret,
                     [](const std::string&) { return std::vector<std::string>{}; });
  ASSERT_TRUE(wait_for([&] { return loud.connected() && calm.connected(); }, 10s));
  const auto loud_id = bind("LOUD-1");
  const auto calm_id = bind("CALM-1");
  loud.publish("state", R"({"online": true})");
  calm.publish("state", R"({"online": true})");
  ASSERT_EQ(call("PATCH", "/api/v1/me/notifications", {{"cooldown_s", 0}}).status, 200);
  ASSERT_EQ(call("PUT", "/api/v1/me/consents/notify.in_app", {{"granted", true}}).status, 200);
  WsClient tab;
  ASSERT_EQ(tab.connect(server_.http_port(), "/api/v1/notifications",
                        {{"Authorization", "Bearer " + owner_}}),
            101);
  ASSERT_TRUE(tab.receive(5s));  // hello

  std::atomic<bool> done{false};
  std::thread flood([&] {
    for (int i = 0; i < 5'000; ++i) {  // 10,000 reports: a start and an end each
      loud.publish("event", R"({"kind": "motion", "state": "start", "score": 0.9})");
      loud.publish("event", R"({"kind": "motion", "state": "end"})");
    }
    done = true;
  });
  // Meanwhile the calm camera's visits, 2 s apart (past the 5 s grouping: a kind each).
  const char* kinds[] = {"motion", "person", "sound", "device_alarm"};
  std::vector<double> delays_ms;
  for (const char* kind : kinds) {
    const auto sent = std::chrono::steady_clock::now();
    calm.publish("event", json{{"kind", kind}, {"state", "start"}, {"score", 0.5}}.dump());
    // The tab hears of the loud camera too; the calm one's notification is what is waited for.
    bool heard = false;
    while (!heard && std::chrono::steady_clock::now() - sent < 3s) {
      auto m = tab.receive(3s);
      if (!m) break;
      const auto n = json::parse(*m, nullptr, false);
      heard = n.is_object() && n.value("device_id", "") == calm_id && n.value("kind", "") == kind;
    }
    ASSERT_TRUE(heard) << kind << "\n" << server_.log();
    delays_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent).count());
    calm.publish("event", json{{"kind", kind}, {"state", "end"}}.dump());
    std::this_thread::sleep_for(2s);
  }
  flood.join();
  for (double d : delays_ms) EXPECT_LT(d, 1000) << "a calm camera's visit was told late";
  ASSERT_TRUE(alive()) << server_.log();
  // The flood is a handful of events, however long it took to arrive.
  std::this_thread::sleep_for(2s);
  const auto loud_events = call("GET", "/api/v1/events?device=" + loud_id + "&limit=200").json();
  EXPECT_LT(loud_events["events"].size(), 60u) << loud_events.dump().substr(0, 2000);
  int64_t reports = 0;
  for (const auto& e : loud_events["events"]) reports += e.value("reports", 0);
  EXPECT_GE(reports, 4'000) << "the reports are counted, not dropped";
  const auto calm_events = call("GET", "/api/v1/events?device=" + calm_id).json();
  EXPECT_EQ(calm_events["events"].size(), 4u) << calm_events.dump();
}

}  // namespace
}  // namespace nj::testing
