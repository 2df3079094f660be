// Resource exhaustion by strangers (#12, item 7): one address cannot take every connection,
// anonymous WebSockets are few, a WebSocket frame sent a byte at a time is cut off, and no
// route that sends mail can be made a spam relay (429 with Retry-After).
#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include "integration/fixture.h"

namespace nj::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class ExhaustionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.start()) << server_.log(); }
  void TearDown() override { EXPECT_EQ(server_.stop(), 0) << server_.log(); }

  // A WebSocket opened by hand on a raw connection (to send frames as a hostile client
  // would); returns the status line's code.
  int raw_websocket(RawConnection& c, const std::string& path) {
    c.send("GET " + path +
           " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    const auto answer = c.read_until("\r\n\r\n", 3s);
    return answer.size() > 12 ? std::atoi(answer.c_str() + 9) : 0;
  }
  uint64_t rejected(const std::string& reason) {
    const auto text = server_.get("/metrics").body;
    const std::string series = "nightjar_http_rejected_total{reason=\"" + reason + "\"} ";
    const auto at = text.find(series);
    return at == std::string::npos ? 0 : std::stoull(text.substr(at + series.size()));
  }
  HttpResult post(const std::string& path, const json& body,
                  std::map<std::string, std::string> h = {}) {
    h["Content-Type"] = "application/json";
    return server_.request("POST", path, h, body.dump());
  }
  size_t mails_to(const std::string& to) {
    size_t n = 0;
    std::istringstream lines(server_.admin("outbox"));
    for (std::string l; std::getline(lines, l);) {
      auto m = json::parse(l, nullptr, false);
      if (m.is_object() && m.value("to", "") == to) ++n;
    }
    return n;
  }

  ServerProcess server_{
      "[http]\nmax_connections_per_address = 24\nmax_anonymous_websockets_per_address = 4\n"
      "websocket_message_timeout_ms = 1500\n"};
};

TEST_F(ExhaustionTest, OneAddressCannotTakeEveryConnection) {
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 24; ++i) {
    held.push_back(std::make_unique<RawConnection>(server_.http_port()));
    ASSERT_TRUE(held.back()->connected());
  }
  // Let the server accept them all, then one more from the same address is shed at once.
  std::this_thread::sleep_for(300ms);
  RawConnection over(server_.http_port());
  EXPECT_TRUE(over.closed_within(2s)) << "the 25th connection from one address";
  held.resize(10);  // some close: room again (the metrics request is a connection too)
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(server_.get("/healthz").status, 200);
  EXPECT_GE(rejected("too_many_connections_from_address"), 1u);
}

TEST_F(ExhaustionTest, AnonymousWebSocketsAreFewPerAddress) {
  std::vector<std::unique_ptr<WsClient>> feeds;
  for (int i = 0; i < 4; ++i) {
    feeds.push_back(std::make_unique<WsClient>());
    ASSERT_EQ(feeds.back()->connect(server_.http_port(), "/api/v1/health/live"), 101);
  }
  WsClient fifth;
  EXPECT_EQ(fifth.connect(server_.http_port(), "/api/v1/health/live"), 429);
  EXPECT_GE(rejected("too_many_anonymous_websockets"), 1u);
  feeds.pop_back();
  std::this_thread::sleep_for(300ms);
  WsClient again;
  EXPECT_EQ(again.connect(server_.http_port(), "/api/v1/health/live"), 101) << "room again";
}

TEST_F(ExhaustionTest, AWebSocketFrameSentAByteAtATimeIsCutOff) {
  RawConnection c(server_.http_port());
  ASSERT_EQ(raw_websocket(c, "/api/v1/health/live"), 101);
  (void)c.read_until("\"health\"", 2s);  // the feed's first document
  // A masked text frame of 16 bytes, trickled: one byte every 300 ms would take 6.6 s.
  std::string frame = {'\x81', static_cast<char>(0x80 | 16), 1, 2, 3, 4};
  for (int i = 0; i < 16; ++i) frame += static_cast<char>('a' ^ (i % 4 + 1));
  const auto began = std::chrono::steady_clock::now();
  bool cut = false;
  for (char byte : frame) {
    if (!c.send(std::string(1, byte))) {
      cut = true;
      break;
    }
    if (c.closed_within(300ms)) {
      cut = true;
      break;
    }
  }
  const auto took = std::chrono::steady_clock::now() - began;
  EXPECT_TRUE(cut) << "the trickled frame was never timed out";
  EXPECT_LT(took, 4s);
  EXPECT_GE(rejected("ws_message_timeout"), 1u);
  // A feed that is simply quiet is not cut: it sends nothing, for longer than the timeout.
  WsClient quiet;
  ASSERT_EQ(quiet.connect(server_.http_port(), "/api/v1/health/live"), 101);
  ASSERT_TRUE(quiet.receive(2s));
  std::this_thread::sleep_for(2500ms);
  EXPECT_TRUE(quiet.send_text(R"({"type":"health"})"));
  EXPECT_TRUE(quiet.receive(2s)) << "an idle client is fine";
}

TEST_F(ExhaustionTest, RoutesThatSendMailAreNoRelay) {
  // Not a demo server: it says so, and has no outbox to show.
  EXPECT_EQ(server_.get("/api/v1/demo").json()["demo"], false);
  EXPECT_EQ(server_.get("/api/v1/demo/outbox").status, 404);
  // Thirty password resets for one address: three mails, then 429 with Retry-After.
  (void)sign_up(server_, "victim@example.org");
  const auto before = mails_to("victim@example.org");
  int refused = 0;
  std::string retry_after;
  for (int i = 0; i < 30; ++i) {
    auto r = post("/api/v1/auth/password-reset", {{"email", "victim@example.org"}});
    if (r.status == 429) {
      ++refused;
      retry_after = r.header("retry-after");
      EXPECT_EQ(r.json()["error"]["code"], "rate_limited");
    }
  }
  EXPECT_GE(refused, 25);
  EXPECT_FALSE(retry_after.empty());
  EXPECT_GT(std::atoi(retry_after.c_str()), 0);
  EXPECT_LE(mails_to("victim@example.org") - before, 3u);
  // Resending verification and registering again land on the same limit for that address.
  EXPECT_EQ(post("/api/v1/auth/resend-verification", {{"email", "victim@example.org"}}).status,
            429);
  // Invitations to arbitrary addresses: a handful, then refused (per address and account).
  const auto owner = sign_up(server_, "owner@example.org");
  (void)add_device(server_, "MAIL-1");
  const std::string id = bind_by_label(server_, "MAIL-1", owner);
  ASSERT_FALSE(id.empty());
  int invited = 0, limited = 0;
  for (int i = 0; i < 25; ++i) {
    auto r = post("/api/v1/devices/" + id + "/shares",
                  {{"email", "target" + std::to_string(i) + "@example.net"}, {"role", "viewer"}},
                  {{"Authorization", "Bearer " + owner}});
    if (r.status == 201) ++invited;
    if (r.status == 429) ++limited;
  }
  EXPECT_LE(invited, 10);
  EXPECT_GE(limited, 15);
}

}  // namespace
}  // namespace nj::testing
