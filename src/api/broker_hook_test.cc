#include "api/broker_hook.h"

#include <gtest/gtest.h>

#include <map>

#include "http/json.h"

namespace nj::api {
namespace {

using nlohmann::json;

struct Hook {
  metrics::Registry metrics;
  std::map<std::string, BrokerHookApi::Camera> cameras{{"CAM-1", {"s3cret-one", true}},
                                                       {"CAM-2", {"s3cret-two", false}}};
  BrokerHookApi api{"hook-token",
                    [this](const std::string& serial) {
                      const auto it = cameras.find(serial);
                      return it == cameras.end() ? std::nullopt
                                                 : std::optional<BrokerHookApi::Camera>(it->second);
                    },
                    metrics};

  static http::Request post(const json& body, const std::string& token = "hook-token") {
    http::Request r;
    r.method = http::Method::kPost;
    r.headers.set("Content-Type", "application/json");
    if (!token.empty()) r.headers.set("Authorization", "Bearer " + token);
    r.body = body.dump();
    return r;
  }
  std::string auth(const std::string& user, const std::string& password) {
    const auto r = api.auth(post({{"username", user}, {"password", password}}));
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false).value("result", "");
  }
  std::string acl(const std::string& user, const std::string& topic, const std::string& action) {
    const auto r = api.acl(post({{"username", user}, {"topic", topic}, {"action", action}}));
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false).value("result", "");
  }
};

TEST(BrokerHook, ACameraLogsInWithItsSecretOnlyWhileEnabledAndOtherLoginsAreLeftToTheBroker) {
  Hook h;
  EXPECT_EQ(h.auth("CAM-1", "s3cret-one"), "allow");
  EXPECT_EQ(h.auth("CAM-1", "s3cret-on"), "deny");
  EXPECT_EQ(h.auth("CAM-1", ""), "deny");
  EXPECT_EQ(h.auth("CAM-1", "s3cret-two"), "deny");           // another camera's secret
  EXPECT_EQ(h.auth("CAM-2", "s3cret-two"), "deny");           // disabled
  EXPECT_EQ(h.auth("nightjar-admin", "whatever"), "ignore");  // no camera: the broker's own
  EXPECT_EQ(h.auth("a/b#", "x"), "ignore");
  EXPECT_NE(h.metrics.render().find("nightjar_broker_hook_total{kind=\"auth\",result=\"allow\"} 1"),
            std::string::npos);
}

TEST(BrokerHook, ACameraReachesOnlyItsOwnTopicsAndNothingOnceDisabled) {
  Hook h;
  EXPECT_EQ(h.acl("CAM-1", "nj/v1/CAM-1/event", "publish"), "allow");
  EXPECT_EQ(h.acl("CAM-1", "nj/v1/CAM-1/rpc/req", "subscribe"), "allow");
  EXPECT_EQ(h.acl("CAM-1", "nj/v1/CAM-1/rpc/req", "read"), "allow");
  EXPECT_EQ(h.acl("CAM-1", "nj/v1/CAM-1/rpc/req", "publish"), "deny");
  EXPECT_EQ(h.acl("CAM-1", "nj/v1/CAM-2/event", "publish"), "deny");
  EXPECT_EQ(h.acl("CAM-1", "nj/v1/+/rpc/req", "subscribe"), "deny");
  EXPECT_EQ(h.acl("CAM-1", "nj/v1/#", "subscribe"), "deny");
  EXPECT_EQ(h.acl("CAM-2", "nj/v1/CAM-2/event", "publish"), "deny");  // disabled
  h.cameras["CAM-1"].enabled = false;  // disabled while connected: its next message is refused
  EXPECT_EQ(h.acl("CAM-1", "nj/v1/CAM-1/event", "publish"), "deny");
  EXPECT_EQ(h.acl("nightjar-admin", "nj/v1/#", "subscribe"), "ignore");
}

TEST(BrokerHook, OnlyTheBrokerMayAskAndWhatItSendsIsChecked) {
  Hook h;
  const json ok = {{"username", "CAM-1"}, {"password", "s3cret-one"}};
  EXPECT_EQ(h.api.auth(Hook::post(ok, "")).status, 401);
  EXPECT_EQ(h.api.auth(Hook::post(ok, "hook-tokeN")).status, 401);
  EXPECT_EQ(h.api
                .acl(Hook::post(
                    {{"username", "CAM-1"}, {"topic", "nj/v1/CAM-1/event"}, {"action", "publish"}},
                    "s3cret-one"))
                .status,
            401);
  auto basic = Hook::post(ok);
  basic.headers.set("Authorization", "Basic aG9vay10b2tlbg==");
  EXPECT_EQ(h.api.auth(basic).status, 401);
  for (const json& bad :
       {json::array(), json{{"username", 5}, {"password", "x"}}, json{{"username", "CAM-1"}},
        json{{"username", std::string(300, 'A')}, {"password", "x"}}}) {
    EXPECT_EQ(h.api.auth(Hook::post(bad)).status, 400) << bad.dump();
  }
  EXPECT_EQ(h.api
                .acl(Hook::post(
                    {{"username", "CAM-1"}, {"topic", "nj/v1/CAM-1/event"}, {"action", "all"}}))
                .status,
            400);
  auto broken = Hook::post(ok);
  broken.body = "{\"username\":";
  EXPECT_EQ(h.api.auth(broken).status, 400);
  // Without a token configured nothing is answered, whatever is sent.
  BrokerHookApi no_token(
      "", [](const std::string&) { return std::optional<BrokerHookApi::Camera>(); }, h.metrics);
  auto empty = Hook::post(ok, "");
  empty.headers.set("Authorization", "Bearer ");
  EXPECT_EQ(no_token.auth(empty).status, 401);
}

}  // namespace
}  // namespace nj::api
