// The channels that leave the app: webhooks (signed, retried, dead-lettered), e-mail
// (through the outbox, bounded per person) and home-automation MQTT (credentials, discovery
// only with consent), with the delivery queue they share.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "notify/action_tokens.h"
#include "notify/delivery_queue.h"
#include "notify/email_channel.h"
#include "notify/home_mqtt.h"
#include "notify/secrets.h"
#include "notify/test_poster.h"
#include "notify/webhooks.h"
#include "store/migrations.h"
#include "store/test_postgres.h"

namespace nj::notify {
namespace {

using nlohmann::json;

bool is_public(const char* text) {
  sockaddr_in v4{};
  if (inet_pton(AF_INET, text, &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    return public_address(reinterpret_cast<sockaddr*>(&v4));
  }
  sockaddr_in6 v6{};
  EXPECT_EQ(inet_pton(AF_INET6, text, &v6.sin6_addr), 1) << text;
  v6.sin6_family = AF_INET6;
  return public_address(reinterpret_cast<sockaddr*>(&v6));
}

TEST(PublicAddress, RefusesTheServersOwnNetworksAndAllowsTheInternet) {
  for (const char* a : {"127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "172.31.255.255",
                        "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
                        "255.255.255.255", "::1", "::", "fe80::1", "fd12:3456::1",
                        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "ff02::1", "64:ff9b::a00:1"}) {
    EXPECT_FALSE(is_public(a)) << a;
  }
  for (const char* a : {"8.8.8.8", "1.1.1.1", "172.32.0.1", "192.169.0.1", "2001:4860:4860::8888",
                        "::ffff:8.8.8.8", "2a00:1450::1"}) {
    EXPECT_TRUE(is_public(a)) << a;
  }
}

TEST(WebhookUrl, TakesHttpAndHttpsAddressesOnly) {
  EXPECT_FALSE(webhook_url_error("https://hooks.example.org/nightjar?k=1"));
  EXPECT_FALSE(webhook_url_error("http://192.0.2.7:8123/api/webhook/abc"));
  EXPECT_TRUE(webhook_url_error("ftp://example.org/"));
  EXPECT_TRUE(webhook_url_error("https://user:pw@example.org/"));
  EXPECT_TRUE(webhook_url_error("https:///path"));
  EXPECT_TRUE(webhook_url_error("https://:80/"));
  EXPECT_TRUE(webhook_url_error("https://example.org/a b"));
  EXPECT_TRUE(webhook_url_error("https://example.org/\r\nX: y"));
  EXPECT_TRUE(webhook_url_error("https://example.org/#top"));
  EXPECT_TRUE(webhook_url_error("https://example.org/" + std::string(2048, 'a')));
  EXPECT_TRUE(webhook_url_error("javascript:alert(1)"));
}

TEST(WebhookUrl, NamesAPrivateHostWhenItIsALiteralOrLocalhost) {
  for (const char* url : {"http://127.0.0.1:8123/x", "https://10.0.0.7/", "http://[::1]:80/",
                          "http://localhost/", "http://LOCALHOST.:80/", "https://169.254.169.254/",
                          "http://[fd00::1]/x", "http://192.168.1.2?x"}) {
    EXPECT_TRUE(names_private_host(url)) << url;
  }
  for (const char* url : {"https://hooks.example.org/", "https://8.8.8.8/", "http://[2001:db8::1]/",
                          "https://example.org:8443/x"}) {
    EXPECT_FALSE(names_private_host(url)) << url;
  }
}

TEST(WebhookSignature, IsHmacSha256OfTheTimeAndTheBody) {
  // openssl dgst -sha256 -hmac whsec_test <<< '1700000000.{"a":1}' (without the newline)
  EXPECT_EQ(webhook_signature("whsec_test", 1'700'000'000, R"({"a":1})"),
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789");
}

TEST(DeliveryQueue, RetriesWaitWithoutHoldingUpOthers) {
  DeliveryQueue q;
  std::mutex mu;
  std::vector<std::string> ran;
  q.post([&](size_t attempt) -> std::optional<std::chrono::milliseconds> {
    std::lock_guard lock(mu);
    ran.push_back("slow" + std::to_string(attempt));
    if (attempt < 2) return std::chrono::milliseconds(30);
    return std::nullopt;
  });
  q.post([&](size_t) -> std::optional<std::chrono::milliseconds> {
    std::lock_guard lock(mu);
    ran.push_back("fast");
    return std::nullopt;
  });
  q.drain();
  EXPECT_EQ(ran, (std::vector<std::string>{"slow0", "fast", "slow1", "slow2"}));
  EXPECT_EQ(q.queued(), 0u);
}

class ChannelsTest : public ::testing::Test {
 protected:
  ChannelsTest()
      : db_(store::testing::open_test_database()),
        clock_(1'800'000'000'000),
        consents_(*db_, clock_) {
    EXPECT_TRUE(store::migrate(*db_, store::builtin_migrations()));
    for (const char* who : {"alice", "bob"}) {
      const store::Value p[] = {std::string(who), std::string(who) + "@example.com"};
      EXPECT_TRUE(
          db_->execute("INSERT INTO users (id, email, password_hash, language, status, created_at) "
                       "VALUES ($1, $2, 'x', 'en', 'active', 0)",
                       p));
    }
  }
  Notification notification(const std::string& user = "alice") {
    Notification n;
    n.id = "n1";
    n.user_id = user;
    n.language = "en";
    n.event_id = "e1";
    n.device_id = "d1";
    n.device_name = "Garden";
    n.kind = events::Kind::kMotion;
    n.at_ms = clock_.now_ms();
    return n;
  }

  std::unique_ptr<store::Database> db_;
  ManualClock clock_;
  privacy::ConsentLedger consents_;
  std::vector<uint8_t> key_ = std::vector<uint8_t>(32, 7);
};

TEST_F(ChannelsTest, AWebhookDeliveryIsSignedWithTheWebhooksOwnSecret) {
  WebhookStore hooks(*db_, clock_, key_);
  FakePoster poster;
  WebhookChannel channel(hooks, poster, clock_, {10, 3, 100});
  auto w = hooks.add("alice", "https://hooks.example.org/a");
  ASSERT_TRUE(w);
  ASSERT_TRUE(hooks.add("bob", "https://hooks.example.org/b"));
  channel.deliver(notification());
  channel.drain();
  ASSERT_EQ(poster.requests.size(), 1u);  // alice's hook only
  const auto& r = poster.requests[0];
  EXPECT_EQ(r.url, "https://hooks.example.org/a");
  const auto body = json::parse(r.body);
  EXPECT_EQ(body["type"], "notification");
  EXPECT_EQ(body["notification"]["event_id"], "e1");
  EXPECT_EQ(body["notification"]["title"], "Motion at Garden");
  EXPECT_FALSE(body["notification"].contains("snapshot"));  // never the picture
  EXPECT_EQ(r.header("Nightjar-Delivery"), body["delivery"]);
  const std::string secret = hooks.secret(w->id);
  EXPECT_TRUE(secret.starts_with("whsec_"));
  EXPECT_NE(secret, hooks.secret(hooks.of("bob")[0].id));
  EXPECT_EQ(r.header("Nightjar-Signature"),
            webhook_signature(secret, clock_.now_ms() / 1000, r.body));
  EXPECT_EQ(hooks.of("alice")[0].last_status, 201);
  EXPECT_EQ(channel.stats().sent, 1u);
  // The secret is not in the database: a copy of it signs nothing.
  auto rows = db_->query("SELECT * FROM webhooks");
  ASSERT_TRUE(rows);
  for (const auto& row : *rows) {
    for (size_t i = 0; i < row.values.size(); ++i) EXPECT_NE(row.text(i), secret);
  }
}

TEST_F(ChannelsTest, AFailingWebhookIsRetriedWithBackoffThenDeadLettered) {
  WebhookStore hooks(*db_, clock_, key_);
  FakePoster poster;
  WebhookChannel channel(hooks, poster, clock_, {5, 3, 100});
  ASSERT_TRUE(hooks.add("alice", "https://hooks.example.org/a"));
  // A 503, no answer, then success: three attempts, one delivery.
  poster.answers = {503, std::nullopt, 200};
  channel.deliver(notification());
  channel.drain();
  ASSERT_EQ(poster.requests.size(), 3u);
  EXPECT_EQ(poster.requests[2].header("Nightjar-Attempt"), "3");
  EXPECT_EQ(poster.requests[0].header("Nightjar-Delivery"),
            poster.requests[2].header("Nightjar-Delivery"));
  EXPECT_TRUE(hooks.failures("alice").empty());
  // Down throughout: three attempts, then the dead-letter list.
  poster.answers = {500, 500, 500};
  channel.deliver(notification());
  channel.drain();
  EXPECT_EQ(poster.requests.size(), 6u);
  auto dead = hooks.failures("alice");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].attempts, 3);
  EXPECT_EQ(dead[0].last_status, 500);
  EXPECT_EQ(dead[0].payload, poster.requests[5].body);
  // A 4xx other than 408 and 429 will not pass by trying again: dead at once.
  poster.answers = {403};
  channel.deliver(notification());
  channel.drain();
  EXPECT_EQ(poster.requests.size(), 7u);
  EXPECT_EQ(hooks.failures("alice").size(), 2u);
  EXPECT_TRUE(hooks.failures("bob").empty());
  // Sent again from the list: the same delivery id, and it leaves the list.
  auto taken = hooks.take_failure("alice", dead[0].id);
  ASSERT_TRUE(taken);
  EXPECT_FALSE(hooks.take_failure("bob", hooks.failures("alice")[0].id));  // not bob's
  ASSERT_TRUE(channel.redeliver(*taken));
  channel.drain();
  ASSERT_EQ(poster.requests.size(), 8u);
  EXPECT_EQ(poster.requests[7].body, dead[0].payload);
  EXPECT_EQ(hooks.failures("alice").size(), 1u);
  EXPECT_EQ(channel.stats().dead, 2u);
}

TEST_F(ChannelsTest, ADeletedWebhookGetsNothingMore) {
  WebhookStore hooks(*db_, clock_, key_);
  FakePoster poster;
  WebhookChannel channel(hooks, poster, clock_, {50, 5, 100});
  auto w = hooks.add("alice", "https://hooks.example.org/a");
  ASSERT_TRUE(w);
  poster.answers = {500};
  channel.deliver(notification());
  // Deleted while its retry waits.
  while (true) {
    std::lock_guard lock(poster.mu);
    if (!poster.requests.empty()) break;
  }
  EXPECT_FALSE(hooks.remove("bob", w->id));
  EXPECT_TRUE(hooks.remove("alice", w->id));
  channel.drain();
  EXPECT_EQ(poster.requests.size(), 1u);
  EXPECT_TRUE(hooks.failures("alice").empty());
}

TEST_F(ChannelsTest, ADeliveryOnItsWayOutlivesARestart) {
  WebhookStore hooks(*db_, clock_, key_);
  ASSERT_TRUE(hooks.add("alice", "https://hooks.example.org/a"));
  FakePoster down;
  down.answers = {503};
  {
    WebhookChannel before(hooks, down, clock_, {60'000, 5, 100});
    before.deliver(notification());
    // The first attempt failed; the next is a minute away when the server stops.
    for (int i = 0; i < 500; ++i) {
      const auto p = hooks.pending();
      if (!p.empty() && p[0].attempts == 1) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  auto kept = hooks.pending();
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].attempts, 1);
  EXPECT_EQ(kept[0].due_ms, clock_.now_ms() + 60'000);
  EXPECT_EQ(kept[0].id, down.requests[0].header("Nightjar-Delivery"));

  FakePoster up;
  clock_.advance_ms(60'000);  // its time came while the server was down
  WebhookChannel after(hooks, up, clock_, {60'000, 5, 100});
  EXPECT_EQ(after.resume(), 1u);
  after.drain();
  ASSERT_EQ(up.requests.size(), 1u);
  EXPECT_EQ(up.requests[0].header("Nightjar-Delivery"), kept[0].id) << "the same delivery";
  EXPECT_EQ(up.requests[0].header("Nightjar-Attempt"), "2");
  EXPECT_EQ(up.requests[0].body, down.requests[0].body);
  EXPECT_TRUE(hooks.pending().empty()) << "through: no longer kept";
  EXPECT_EQ(after.resume(), 0u) << "nothing is sent twice";

  // A delivery of a webhook deleted while the server was down is not resumed.
  FakePoster down_again;
  down_again.answers = {503};
  {
    WebhookChannel before(hooks, down_again, clock_, {60'000, 5, 100});
    before.deliver(notification());
    for (int i = 0; i < 500 && (hooks.pending().empty() || hooks.pending()[0].attempts == 0); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ASSERT_EQ(hooks.pending().size(), 1u);
  ASSERT_TRUE(hooks.remove("alice", hooks.of("alice")[0].id));
  EXPECT_TRUE(hooks.pending().empty()) << "removed with its webhook";
}

TEST_F(ChannelsTest, WebhooksAreBoundedPerPerson) {
  WebhookStore hooks(*db_, clock_, key_);
  for (size_t i = 0; i < WebhookStore::kMaxPerPerson; ++i) {
    ASSERT_TRUE(hooks.add("alice", "https://hooks.example.org/" + std::to_string(i)));
  }
  EXPECT_FALSE(hooks.add("alice", "https://hooks.example.org/more"));
  EXPECT_TRUE(hooks.add("bob", "https://hooks.example.org/bob"));
  EXPECT_FALSE(hooks.add("bob", "gopher://example.org/"));
}

TEST_F(ChannelsTest, EMailGoesThroughTheOutboxAndIsBoundedPerPerson) {
  mail::Outbox outbox(*db_, clock_, true);
  int woken = 0;
  EmailChannel channel(
      outbox, [&woken] { ++woken; },
      [](const std::string& user) { return user == "alice" ? "alice@example.com" : ""; },
      "https://cams.example.org", clock_, 3);
  for (int i = 0; i < 5; ++i) channel.deliver(notification());
  channel.deliver(notification("bob"));  // no address to write to
  auto mails = outbox.list();
  ASSERT_TRUE(mails);
  ASSERT_EQ(mails->size(), 3u);
  EXPECT_EQ(woken, 3);
  const auto& m = mails->front().mail;
  EXPECT_EQ(m.to, "alice@example.com");
  EXPECT_EQ(m.subject, "Motion at Garden");
  EXPECT_NE(m.body.find("https://cams.example.org/events?device=d1"), std::string::npos);
  EXPECT_NE(m.body.find("https://cams.example.org/account/notifications"), std::string::npos);
  EXPECT_EQ(channel.stats().limited, 2u);
  EXPECT_EQ(channel.stats().no_address, 1u);
  // An hour later there is room again.
  clock_.advance_ms(3'600'000);
  channel.deliver(notification());
  EXPECT_EQ(outbox.list()->size(), 4u);
  // A summary says how many more, in the person's language.
  auto n = notification();
  n.grouped = 12;
  n.language = "zh-CN";
  const auto zh = EmailChannel::compose(n, "a@example.com", "https://x");
  EXPECT_EQ(zh.subject, "Garden：移动侦测（另有 12 次）");
}

TEST_F(ChannelsTest, ASnoozeTokenDoesOneThingForOneCameraForADay) {
  ActionTokens tokens(key_, clock_);
  const std::string token = tokens.snooze("a1b2", "d1");
  auto claim = tokens.check_snooze(token);
  ASSERT_TRUE(claim);
  EXPECT_EQ(claim->user_id, "a1b2");
  EXPECT_EQ(claim->device_id, "d1");
  // Another camera or person in the same token, or another key: refused.
  std::string other = token;
  other.replace(other.find(".d1."), 4, ".d2.");
  EXPECT_FALSE(tokens.check_snooze(other));
  std::string tampered = token;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(tokens.check_snooze(tampered));
  EXPECT_FALSE(ActionTokens(std::vector<uint8_t>(32, 8), clock_).check_snooze(token));
  for (const char* bad : {"", "s1.", "s1.a.b.c", "s1.a.b.x.y", "s2.a1b2.d1.1.x", "s1.a/b.d1.9.x"}) {
    EXPECT_FALSE(tokens.check_snooze(bad)) << bad;
  }
  clock_.advance_ms(ActionTokens::kLifetimeMs);
  EXPECT_FALSE(tokens.check_snooze(token)) << "a day later";
}

struct Broker {
  struct Message {
    std::string topic, payload;
    bool retain;
  };
  std::vector<Message> published;
  std::vector<json> commands;
  std::map<std::string, std::string> retained() const {
    std::map<std::string, std::string> out;
    for (const auto& m : published) {
      if (!m.retain) continue;
      if (m.payload.empty()) {
        out.erase(m.topic);
      } else {
        out[m.topic] = m.payload;
      }
    }
    return out;
  }
};

TEST_F(ChannelsTest, HomeAutomationGetsItsOwnCredentialsAndDiscoveryOnlyWithConsent) {
  Broker broker;
  std::vector<HomeCamera> cameras = {{"d1", "Garden", "NJ-1"}, {"d2", "Door", "NJ-1"}};
  HomeMqtt home(
      *db_, clock_, consents_, key_,
      [&broker](const std::string& t, const std::string& p, bool r) {
        broker.published.push_back({t, p, r});
      },
      [&broker](const std::vector<json>& c) {
        broker.commands.insert(broker.commands.end(), c.begin(), c.end());
      },
      [&cameras](const std::string& user) {
        return user == "alice" ? cameras : std::vector<HomeCamera>{};
      });
  EXPECT_FALSE(home.enabled("alice"));
  auto password = home.enable("alice");
  ASSERT_TRUE(password);
  EXPECT_GE(password->size(), 40u);
  EXPECT_TRUE(home.enabled("alice"));
  bool created = false;
  for (const auto& c : broker.commands) {
    if (c["command"] == "createClient") {
      created = true;
      EXPECT_EQ(c["username"], "home.alice");
      EXPECT_EQ(c["password"], *password);
    }
    if (c["command"] == "createRole") {
      for (const auto& acl : c["acls"]) {
        EXPECT_TRUE(acl["topic"].get<std::string>().starts_with("nj/home/alice/")) << acl;
      }
    }
  }
  EXPECT_TRUE(created);
  // No consent yet: no discovery, and nothing about events.
  EXPECT_TRUE(broker.retained().empty());
  ASSERT_TRUE(consents_.record("alice", privacy::kNotifyMqtt, true, "1", "app"));
  home.consent_changed("alice", true);
  auto retained = broker.retained();
  ASSERT_EQ(retained.size(), 4u);  // two cameras × motion and person
  const auto config = json::parse(
      retained.at("nj/home/alice/homeassistant/binary_sensor/nightjar_d1_motion/config"));
  EXPECT_EQ(config["state_topic"], "nj/home/alice/d1/motion");
  EXPECT_EQ(config["device_class"], "motion");
  EXPECT_EQ(config["device"]["name"], "Garden");
  // A notification: the event, and the sensor on.
  broker.published.clear();
  home.deliver(notification());
  ASSERT_EQ(broker.published.size(), 2u);
  EXPECT_EQ(broker.published[0].topic, "nj/home/alice/events");
  EXPECT_EQ(json::parse(broker.published[0].payload)["event_id"], "e1");
  EXPECT_EQ(broker.published[1].topic, "nj/home/alice/d1/motion");
  EXPECT_EQ(broker.published[1].payload, "ON");
  // A camera lost: its sensors are taken back.
  cameras.pop_back();
  home.forget_device("d2");
  EXPECT_EQ(broker.retained().size(), 2u);
  // A reset: a new password, and the old one is replaced on the broker.
  broker.commands.clear();
  auto again = home.enable("alice");
  ASSERT_TRUE(again);
  EXPECT_NE(*again, *password);
  bool reset = false;
  for (const auto& c : broker.commands) {
    reset = reset || (c["command"] == "setClientPassword" && c["password"] == *again);
  }
  EXPECT_TRUE(reset);
  // Withdrawn: discovery taken back. Disabled: credentials deleted.
  home.consent_changed("alice", false);
  EXPECT_TRUE(broker.retained().empty());
  broker.commands.clear();
  home.disable("alice");
  EXPECT_FALSE(home.enabled("alice"));
  ASSERT_FALSE(broker.commands.empty());
  EXPECT_EQ(broker.commands[0]["command"], "deleteClient");
  EXPECT_EQ(broker.commands[0]["username"], "home.alice");
}

}  // namespace
}  // namespace nj::notify
