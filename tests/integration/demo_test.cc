// Demo mode hands out nothing (#12, item 6): the outbox shows a reader only their own mail
// (signed in, or registered from this very browser), `--demo` stays on loopback unless the
// operator says otherwise, and the app can tell it is a demo.
#include <gtest/gtest.h>

#include <algorithm>

#include "integration/fixture.h"

namespace nj::testing {
namespace {

using nlohmann::json;

class DemoTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.start()) << server_.log(); }
  void TearDown() override { EXPECT_EQ(server_.stop(), 0) << server_.log(); }

  // Registers an address; returns the cookie the answer set for this "browser".
  std::string registered(const std::string& email) {
    const std::string policy = server_.get("/api/v1/policy").json().value("version", "");
    auto r =
        server_.request("POST", "/api/v1/auth/register", {{"Content-Type", "application/json"}},
                        json{{"email", email},
                             {"password", "a long passphrase for " + email},
                             {"language", "en"},
                             {"policy_version", policy}}
                            .dump());
    EXPECT_EQ(r.status, 202) << r.body;
    for (const auto& c : r.set_cookies) {
      if (c.rfind("nj_demo_mail=", 0) == 0) return c.substr(0, c.find(';'));
    }
    return "";
  }
  std::vector<std::string> outbox_to(const std::map<std::string, std::string>& headers = {}) {
    auto r = server_.request("GET", "/api/v1/demo/outbox", headers);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> to;
    const auto body = r.json();  // kept: a loop over a temporary's member would dangle
    for (const auto& m : body["mails"]) to.push_back(m["to"]);
    return to;
  }

  ServerProcess server_{"", {"--demo"}};
};

TEST_F(DemoTest, TheOutboxShowsOnlyTheReadersOwnMail) {
  EXPECT_EQ(server_.get("/api/v1/demo").json()["demo"], true);
  const auto alice = registered("alice@example.org");
  ASSERT_FALSE(alice.empty());
  const auto bob = registered("bob@example.org");
  // Carol asks for a password reset: her link must reach nobody but her.
  const auto carol = sign_up(server_, "carol@example.org");
  (void)server_.request("POST", "/api/v1/auth/password-reset",
                        {{"Content-Type", "application/json"}},
                        json{{"email", "carol@example.org"}}.dump());
  for (const auto& to : outbox_to()) {
    EXPECT_EQ(to, "demo@nightjar.local") << "a stranger reads only the public demo account's";
  }
  const auto alices = outbox_to({{"Cookie", alice}});
  ASSERT_FALSE(alices.empty()) << "the browser that registered reads its verification mail";
  for (const auto& to : alices) EXPECT_NE(to, "bob@example.org");
  for (const auto& to : alices) EXPECT_NE(to, "carol@example.org");
  EXPECT_NE(std::find(alices.begin(), alices.end(), "alice@example.org"), alices.end());
  for (const auto& to : outbox_to({{"Cookie", "nj_demo_mail=made-up"}})) {
    EXPECT_EQ(to, "demo@nightjar.local");
  }
  // Signed in, carol reads her reset link, and still nobody else's.
  const auto carols = outbox_to({{"Authorization", "Bearer " + carol}});
  EXPECT_NE(std::find(carols.begin(), carols.end(), "carol@example.org"), carols.end());
  for (const auto& to : carols) {
    EXPECT_TRUE(to == "carol@example.org" || to == "demo@nightjar.local") << to;
  }
  (void)bob;
}

TEST(DemoMode, RefusesToListenBeyondLoopbackUnlessTold) {
  int status = 0;
  const auto out = run_command(
      "'" + std::string(NJ_BIN_PATH) + "' serve --demo --listen 0.0.0.0 --data /nonexistent 2>&1",
      &status);
  EXPECT_EQ(status, 2) << out;
  EXPECT_NE(out.find("--demo-public"), std::string::npos) << out;
}

}  // namespace
}  // namespace nj::testing
