#include "notify/push_channel.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "notify/test_poster.h"
#include "store/migrations.h"
#include "store/test_postgres.h"

namespace nj::notify {
namespace {

const std::string kUaPublic = *webpush::from_base64url(
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4");
const std::string kAuth = *webpush::from_base64url("BTBZMqHH6r4Tts7J_aSIgg");

class PushChannelTest : public ::testing::Test {
 protected:
  PushChannelTest()
      : db_(store::testing::open_test_database()),
        clock_(1'800'000'000'000),
        subscriptions_(*db_, clock_),
        dir_(std::filesystem::temp_directory_path() / ("nj-push-" + std::to_string(getpid()))) {
    EXPECT_TRUE(store::migrate(*db_, store::builtin_migrations()));
    const store::Value p[] = {std::string("alice"), std::string("alice@example.com")};
    EXPECT_TRUE(
        db_->execute("INSERT INTO users (id, email, password_hash, language, status, created_at) "
                     "VALUES ($1, $2, 'x', 'en', 'active', 0)",
                     p));
    std::filesystem::create_directories(dir_);
    vapid_.emplace(std::move(webpush::VapidKey::load_or_create(dir_ / "vapid.pem")).value());
    options_.subject = "mailto:ops@example.org";
    options_.retry_ms = {10, 10, 10};
  }
  ~PushChannelTest() override { std::filesystem::remove_all(dir_); }
  Notification notification() {
    Notification n;
    n.user_id = "alice";
    n.language = "en";
    n.event_id = "e1";
    n.device_name = "Garden";
    n.kind = events::Kind::kPerson;
    n.at_ms = clock_.now_ms();
    return n;
  }
  std::string header(const FakePoster::Request& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }

  std::unique_ptr<store::Database> db_;
  ManualClock clock_;
  PushSubscriptions subscriptions_;
  std::filesystem::path dir_;
  std::optional<webpush::VapidKey> vapid_;
  PushOptions options_;
  FakePoster poster_;
};

TEST_F(PushChannelTest, PostsAnEncryptedSignedMessageWithoutThePicture) {
  ASSERT_TRUE(
      subscriptions_.add("alice", "https://fcm.googleapis.com/fcm/send/abc", kUaPublic, kAuth));
  PushChannel channel(subscriptions_, *vapid_, poster_, clock_, options_);
  channel.deliver(notification());
  channel.drain();
  ASSERT_EQ(poster_.requests.size(), 1u);
  const auto& r = poster_.requests[0];
  EXPECT_EQ(r.url, "https://fcm.googleapis.com/fcm/send/abc");
  EXPECT_EQ(header(r, "Content-Encoding"), "aes128gcm");
  EXPECT_EQ(header(r, "TTL"), "3600");
  EXPECT_TRUE(header(r, "Authorization").starts_with("vapid t="));
  EXPECT_NE(header(r, "Authorization").find(", k=" + webpush::base64url(vapid_->public_key())),
            std::string::npos);
  // Encrypted: the words are not in the body; the payload names no picture.
  EXPECT_EQ(r.body.find("Garden"), std::string::npos);
  const auto payload = nlohmann::json::parse(PushChannel::payload(notification()));
  EXPECT_EQ(payload["title"], "Person at Garden");
  EXPECT_EQ(payload["event_id"], "e1");
  EXPECT_FALSE(payload.contains("snapshot"));
  EXPECT_EQ(channel.stats().sent, 1u);
}

TEST_F(PushChannelTest, GoneSubscriptionsAreDroppedAndBusyServicesTriedAgain) {
  ASSERT_TRUE(subscriptions_.add("alice", "https://fcm.googleapis.com/a", kUaPublic, kAuth));
  clock_.advance_ms(1);
  ASSERT_TRUE(
      subscriptions_.add("alice", "https://updates.push.services.mozilla.com/b", kUaPublic, kAuth));
  PushChannel channel(subscriptions_, *vapid_, poster_, clock_, options_);
  poster_.answers_for["https://fcm.googleapis.com/a"] = {410};
  poster_.answers_for["https://updates.push.services.mozilla.com/b"] = {503, std::nullopt, 201};
  channel.deliver(notification());
  channel.drain();
  EXPECT_EQ(poster_.requests.size(), 4u) << "one gone, one tried three times";
  const auto left = subscriptions_.of("alice");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].endpoint, "https://updates.push.services.mozilla.com/b");
  const auto stats = channel.stats();
  EXPECT_EQ(stats.expired, 1u);
  EXPECT_EQ(stats.retried, 2u);
  EXPECT_EQ(stats.sent, 1u);
}

TEST_F(PushChannelTest, OnlyKnownPushServicesAreTrusted) {
  PushTargets t;
  EXPECT_EQ(push_origin("https://fcm.googleapis.com/fcm/send/x", t), "https://fcm.googleapis.com");
  EXPECT_EQ(push_origin("https://web.push.apple.com/QO", t), "https://web.push.apple.com");
  EXPECT_FALSE(push_origin("https://push.apple.com.evil.example/x", t));
  EXPECT_FALSE(push_origin("https://evil.example/fcm.googleapis.com", t));
  EXPECT_FALSE(push_origin("https://fcm.googleapis.com@127.0.0.1/x", t));
  EXPECT_FALSE(push_origin("http://fcm.googleapis.com/x", t)) << "plain HTTP";
  EXPECT_FALSE(push_origin("https://169.254.169.254/latest", t));
  EXPECT_FALSE(push_origin("file:///etc/passwd", t));
  EXPECT_FALSE(push_origin("https://fcm.googleapis.com:99999/x", t));
  t.hosts = {"127.0.0.1"};
  EXPECT_FALSE(push_origin("http://127.0.0.1:8090/notify/x", t));
  t.allow_http = true;
  EXPECT_EQ(push_origin("http://127.0.0.1:8090/notify/x", t), "http://127.0.0.1:8090");
}

}  // namespace
}  // namespace nj::notify
