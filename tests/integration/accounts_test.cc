// Accounts over real HTTP against a real server, with mail delivered by SMTP to a receiver
// on loopback: each flow of issue #3, and the attacks on it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "account/totp.h"
#include "integration/fixture.h"
#include "integration/smtp_receiver.h"

namespace nj::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Headers = std::map<std::string, std::string>;

constexpr const char* kPassword = "owl at dusk 77";
const Headers kJson = {{"Content-Type", "application/json"}};

struct Session {
  std::string token, csrf, id;
  Headers bearer() const { return {{"Authorization", "Bearer " + token}}; }
  Headers bearer_json() const {
    return {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
  }
  Headers cookie(bool with_csrf) const {
    Headers h = {{"Cookie", "nj_session=" + token + "; nj_csrf=" + csrf},
                 {"Content-Type", "application/json"}};
    if (with_csrf) h["X-CSRF-Token"] = csrf;
    return h;
  }
};

class AccountsTest : public ::testing::Test {
 protected:
  void start(const std::string& extra_toml = "") {
    server_ = std::make_unique<ServerProcess>(std::string(R"(
[accounts]
lockout_threshold = 3
lockout_base_s = 1
lockout_max_s = 2
[smtp]
url = ")") + smtp_.url() + "\"\n" + extra_toml);
    ASSERT_TRUE(server_->start()) << server_->log();
    policy_ = server_->get("/api/v1/policy").json()["version"];
  }
  void TearDown() override {
    if (server_) {
      EXPECT_EQ(server_->stop(), 0) << server_->log();
    }
  }

  HttpResult post(const std::string& path, const json& body, const Headers& h = kJson) {
    return server_->request("POST", path, h, body.dump());
  }
  HttpResult register_user(const std::string& email, const std::string& password = kPassword) {
    return post("/api/v1/auth/register", {{"email", email},
                                          {"password", password},
                                          {"language", "en"},
                                          {"policy_version", policy_}});
  }
  HttpResult login(const std::string& email, const std::string& password = kPassword,
                   const std::string& totp = "") {
    json body = {{"email", email}, {"password", password}};
    if (!totp.empty()) body["totp"] = totp;
    return post("/api/v1/auth/login", body);
  }
  static Session session_of(const HttpResult& r) {
    auto j = r.json();
    return Session{j.value("token", ""), j.value("csrf_token", ""), j.value("session_id", "")};
  }
  // Register, read the verification mail from SMTP, verify, sign in.
  Session signed_up(const std::string& email) {
    EXPECT_EQ(register_user(email).status, 202);
    auto mail = smtp_.wait_for(email);
    EXPECT_TRUE(mail) << "no verification mail";
    if (!mail) return {};
    EXPECT_EQ(post("/api/v1/auth/verify", {{"token", mail->token("/verify")}}).status, 200);
    auto r = login(email);
    EXPECT_EQ(r.status, 200) << r.body;
    return session_of(r);
  }
  static void expect_error(const HttpResult& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.json()["error"]["code"], code) << r.body;
  }

  SmtpReceiver smtp_;
  std::unique_ptr<ServerProcess> server_;
  std::string policy_;
};

TEST_F(AccountsTest, PolicyIsServedInBothLanguages) {
  start();
  auto en = server_->get("/api/v1/policy").json();
  auto zh = server_->get("/api/v1/policy?language=zh-CN").json();
  EXPECT_FALSE(en["version"].get<std::string>().empty());
  EXPECT_EQ(en["version"], zh["version"]);
  EXPECT_NE(en["text"].get<std::string>().find("privacy policy"), std::string::npos);
  EXPECT_NE(zh["text"].get<std::string>().find("隐私政策"), std::string::npos);
}

TEST_F(AccountsTest, SignUpVerifySignInAndOut) {
  start();
  ASSERT_EQ(register_user("ann@example.org").status, 202);
  auto mail = smtp_.wait_for("ann@example.org");
  ASSERT_TRUE(mail);
  EXPECT_EQ(mail->subject(), "Confirm your Nightjar e-mail address");
  expect_error(login("ann@example.org"), 403, "email_not_verified");
  ASSERT_EQ(post("/api/v1/auth/verify", {{"token", mail->token("/verify")}}).status, 200);
  auto r = login("ann@example.org");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto s = session_of(r);
  EXPECT_GE(s.token.size(), 43u);
  // The web app's cookie: HttpOnly and SameSite=Strict.
  ASSERT_EQ(r.set_cookies.size(), 2u);
  EXPECT_NE(r.set_cookies[0].find("nj_session=" + s.token), std::string::npos);
  EXPECT_NE(r.set_cookies[0].find("HttpOnly"), std::string::npos);
  EXPECT_NE(r.set_cookies[0].find("SameSite=Strict"), std::string::npos);
  auto me = server_->request("GET", "/api/v1/me", s.bearer());
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(me.json()["email"], "ann@example.org");
  EXPECT_EQ(server_->request("GET", "/api/v1/me", s.cookie(false)).status, 200);
  // A second sign-in gets a new token.
  EXPECT_NE(session_of(login("ann@example.org")).token, s.token);
  EXPECT_EQ(server_->request("POST", "/api/v1/auth/logout", s.bearer()).status, 204);
  expect_error(server_->request("GET", "/api/v1/me", s.bearer()), 401, "unauthenticated");
}

TEST_F(AccountsTest, CancelledAccountIsRefusedOnTheVeryNextRequest) {
  start();
  auto s = signed_up("bob@example.org");
  auto phone = session_of(login("bob@example.org"));
  expect_error(server_->request("DELETE", "/api/v1/me", s.bearer_json(),
                                json{{"password", "not my password"}}.dump()),
               401, "invalid_credentials");
  ASSERT_EQ(server_->request("GET", "/api/v1/me", phone.bearer()).status, 200) << "unchanged";
  auto cancelled = server_->request("DELETE", "/api/v1/me", s.bearer_json(),
                                    json{{"password", kPassword}}.dump());
  ASSERT_EQ(cancelled.status, 204) << cancelled.body;
  expect_error(server_->request("GET", "/api/v1/me", phone.bearer()), 401, "unauthenticated");
  expect_error(server_->request("GET", "/api/v1/me", s.bearer()), 401, "unauthenticated");
  expect_error(login("bob@example.org"), 401, "invalid_credentials");
  // The anonymisation job runs and the operator sees it finish.
  std::string jobs;
  for (int i = 0; i < 50 && jobs.find("\"state\":\"done\"") == std::string::npos; ++i) {
    std::this_thread::sleep_for(100ms);
    jobs = server_->admin("jobs");
  }
  EXPECT_NE(jobs.find("\"kind\":\"account_anonymise\""), std::string::npos) << jobs;
  EXPECT_NE(jobs.find("\"state\":\"done\""), std::string::npos) << jobs;
  EXPECT_EQ(server_->admin("outbox").find("bob@example.org"), std::string::npos)
      << "mail to the address is forgotten";
}

TEST_F(AccountsTest, ResetTokenWorksOnceAndEndsSessions) {
  start();
  auto s = signed_up("cat@example.org");
  ASSERT_EQ(post("/api/v1/auth/password-reset", {{"email", "cat@example.org"}}).status, 202);
  auto mail = smtp_.wait_for("cat@example.org", 2);
  ASSERT_TRUE(mail);
  const auto token = mail->token("/reset-password");
  ASSERT_FALSE(token.empty());
  const json body = {{"token", token}, {"password", "a new owl at dawn"}};
  ASSERT_EQ(post("/api/v1/auth/password-reset/confirm", body).status, 200);
  expect_error(post("/api/v1/auth/password-reset/confirm", body), 400, "invalid_token");
  expect_error(server_->request("GET", "/api/v1/me", s.bearer()), 401, "unauthenticated");
  expect_error(login("cat@example.org"), 401, "invalid_credentials");
  EXPECT_EQ(login("cat@example.org", "a new owl at dawn").status, 200);
  // An unknown address gets the same answer, and no mail.
  auto unknown = post("/api/v1/auth/password-reset", {{"email", "nobody@example.org"}});
  EXPECT_EQ(unknown.status, 202);
  EXPECT_EQ(unknown.body, post("/api/v1/auth/password-reset", {{"email", "cat@example.org"}}).body);
}

TEST_F(AccountsTest, ExpiredTokensFail) {
  start("");
  // A second server whose links live one second.
  ASSERT_EQ(server_->stop(), 0);
  server_ = std::make_unique<ServerProcess>(std::string(R"(
[accounts]
verify_token_ttl_s = 1
reset_token_ttl_s = 1
[smtp]
url = ")") + smtp_.url() + "\"\n");
  ASSERT_TRUE(server_->start()) << server_->log();
  ASSERT_EQ(register_user("dee@example.org").status, 202);
  auto mail = smtp_.wait_for("dee@example.org");
  ASSERT_TRUE(mail);
  std::this_thread::sleep_for(1200ms);
  expect_error(post("/api/v1/auth/verify", {{"token", mail->token("/verify")}}), 400,
               "invalid_token");
  expect_error(login("dee@example.org"), 403, "email_not_verified");
}

TEST_F(AccountsTest, LockoutEngagesAndReleases) {
  start();
  signed_up("eve@example.org");
  for (int i = 0; i < 3; ++i)
    expect_error(login("eve@example.org", "guess " + std::to_string(i)), 401,
                 "invalid_credentials");
  auto locked = login("eve@example.org");
  expect_error(locked, 429, "locked_out");
  EXPECT_EQ(locked.header("retry-after"), "1");
  std::this_thread::sleep_for(1100ms);
  EXPECT_EQ(login("eve@example.org").status, 200) << "the lock releases";
  // Unknown addresses lock the same way: the lock reveals nothing.
  for (int i = 0; i < 3; ++i) login("ghost@example.org", "guess");
  expect_error(login("ghost@example.org", "guess"), 429, "locked_out");
}

TEST_F(AccountsTest, UnknownEmailAndWrongPasswordAnswerAlike) {
  start();
  signed_up("fox@example.org");
  auto wrong = login("fox@example.org", "not the password");
  auto unknown = login("nobody@example.org", "not the password");
  EXPECT_EQ(wrong.status, unknown.status);
  EXPECT_EQ(wrong.body, unknown.body);
  // Registering an existing address answers like a new one.
  auto again = register_user("fox@example.org", "another owl at dusk");
  EXPECT_EQ(again.status, 202);
  EXPECT_EQ(again.body, register_user("new@example.org").body);
}

TEST_F(AccountsTest, TwoUsersNeverReachEachOther) {
  start();
  auto a = signed_up("amy@example.org");
  auto b = signed_up("ben@example.org");
  // Every account route, called with A's token, answers about A only.
  auto me = server_->request("GET", "/api/v1/me", a.bearer()).json();
  EXPECT_EQ(me["email"], "amy@example.org");
  auto patched = server_->request("PATCH", "/api/v1/me", a.bearer_json(),
                                  json{{"display_name", "Amy"}}.dump());
  EXPECT_EQ(patched.json()["email"], "amy@example.org");
  EXPECT_EQ(server_->request("GET", "/api/v1/me", b.bearer()).json()["display_name"], "");
  auto sessions = server_->request("GET", "/api/v1/me/sessions", a.bearer()).json()["sessions"];
  for (const auto& s : sessions) EXPECT_NE(s["id"], b.id);
  expect_error(server_->request("DELETE", "/api/v1/me/sessions/" + b.id, a.bearer()), 404,
               "not_found");
  EXPECT_EQ(server_->request("POST", "/api/v1/me/sessions/end-others", a.bearer()).status, 200);
  EXPECT_EQ(server_->request("GET", "/api/v1/me", b.bearer()).status, 200) << "B unaffected";
  // A's password change ends A's other sessions, never B's.
  auto a_phone = session_of(login("amy@example.org"));
  EXPECT_EQ(server_
                ->request("POST", "/api/v1/me/password", a.bearer_json(),
                          json{{"current_password", kPassword},
                               {"new_password", "owl at dusk 99"},
                               {"end_other_sessions", true}}
                              .dump())
                .status,
            204);
  EXPECT_EQ(server_->request("GET", "/api/v1/me", a_phone.bearer()).status, 401);
  EXPECT_EQ(server_->request("GET", "/api/v1/me", a.bearer()).status, 200);
  EXPECT_EQ(server_->request("GET", "/api/v1/me", b.bearer()).status, 200);
  // Without saying, other sessions end too (#12, 8): whoever knew the old password is out.
  auto a_tablet = session_of(login("amy@example.org", "owl at dusk 99"));
  ASSERT_EQ(server_->request("GET", "/api/v1/me", a_tablet.bearer()).status, 200);
  EXPECT_EQ(server_
                ->request("POST", "/api/v1/me/password", a.bearer_json(),
                          json{{"current_password", "owl at dusk 99"},
                               {"new_password", "heron at dawn 77"}}
                              .dump())
                .status,
            204);
  EXPECT_EQ(server_->request("GET", "/api/v1/me", a_tablet.bearer()).status, 401);
  EXPECT_EQ(server_->request("GET", "/api/v1/me", a.bearer()).status, 200);
  // And A cannot cancel B: DELETE /me acts on the caller, whose password B's is not.
  expect_error(server_->request("DELETE", "/api/v1/me", a.bearer_json(),
                                json{{"password", kPassword}}.dump()),
               401, "invalid_credentials");
  EXPECT_EQ(server_->request("GET", "/api/v1/me", b.bearer()).status, 200);
}

TEST_F(AccountsTest, CookieWritesNeedTheCsrfTokenAndOurOrigin) {
  start();
  auto s = signed_up("gil@example.org");
  const auto body = json{{"display_name", "Gil"}}.dump();
  expect_error(server_->request("PATCH", "/api/v1/me", s.cookie(false), body), 403, "csrf");
  auto wrong = s.cookie(false);
  wrong["X-CSRF-Token"] = "forged";
  expect_error(server_->request("PATCH", "/api/v1/me", wrong, body), 403, "csrf");
  auto cross = s.cookie(true);
  cross["Origin"] = "http://evil.example";
  expect_error(server_->request("PATCH", "/api/v1/me", cross, body), 403, "csrf");
  EXPECT_EQ(server_->request("GET", "/api/v1/me", s.bearer()).json()["display_name"], "")
      << "nothing changed";
  EXPECT_EQ(server_->request("PATCH", "/api/v1/me", s.cookie(true), body).status, 200);
  EXPECT_EQ(server_->request("PATCH", "/api/v1/me", s.bearer_json(), body).status, 200)
      << "Bearer clients need no CSRF token";
}

TEST_F(AccountsTest, BadInputGetsAClear4xxAndChangesNothing) {
  start();
  auto s = signed_up("hal@example.org");
  expect_error(register_user("not an email"), 400, "invalid_field");
  expect_error(register_user("x@example.org", "password"), 400, "weak_password");
  expect_error(register_user("x@example.org", std::string(5000, 'a')), 400, "invalid_field");
  expect_error(post("/api/v1/auth/register", {{"email", "x@example.org"},
                                              {"password", kPassword},
                                              {"language", "en"},
                                              {"policy_version", "1999-01-01"}}),
               409, "policy_version");
  expect_error(
      server_->request("POST", "/api/v1/auth/register", {{"Content-Type", "text/plain"}}, "{}"),
      415, "unsupported_media_type");
  expect_error(post("/api/v1/auth/register", json::array()), 400, "invalid_field");
  expect_error(post("/api/v1/auth/verify", {{"token", 42}}), 400, "invalid_field");
  expect_error(post("/api/v1/auth/verify", {{"token", "replayed-or-made-up"}}), 400,
               "invalid_token");
  expect_error(server_->request("PATCH", "/api/v1/me", s.bearer_json(),
                                json{{"email", "other@example.org"}}.dump()),
               400, "invalid_field");
  expect_error(server_->request("PATCH", "/api/v1/me", s.bearer_json(),
                                json{{"display_name", std::string(500, 'n')}}.dump()),
               400, "invalid_field");
  expect_error(server_->request("PATCH", "/api/v1/me", s.bearer_json(),
                                json{{"language", "klingon"}}.dump()),
               400, "invalid_field");
  expect_error(server_->request("GET", "/api/v1/me", {{"Authorization", "Bearer nonsense"}}), 401,
               "unauthenticated");
  // None of it created an account or changed the profile.
  expect_error(login("x@example.org"), 401, "invalid_credentials");
  auto me = server_->request("GET", "/api/v1/me", s.bearer()).json();
  EXPECT_EQ(me["email"], "hal@example.org");
  EXPECT_EQ(me["language"], "en");
  EXPECT_EQ(me["display_name"], "");
}

// Minimisation (#16): the operator can list every place the server may connect to — as
// configured — and the hosts of the webhooks people added (never their paths or keys).
TEST_F(AccountsTest, TheOperatorSeesEveryOutboundDestination) {
  start();
  const auto bearer = sign_up(*server_, "hooks@example.org");
  ASSERT_EQ(call_as(*server_, bearer, "POST", "/api/v1/me/webhooks",
                    {{"url", "https://hooks.example.org/in/abc?key=secret"}})
                .status,
            201);
  const auto out = json::parse(server_->admin("outbound"));
  EXPECT_EQ(out["smtp"], smtp_.url());
  EXPECT_NE(out["push_services"].dump().find("fcm.googleapis.com"), std::string::npos);
  EXPECT_EQ(out["webhooks"], "public addresses only");
  EXPECT_EQ(out["webhook_hosts"]["hooks.example.org"], 1) << out.dump();
  EXPECT_EQ(out.dump().find("secret"), std::string::npos);
}

TEST_F(AccountsTest, TwoFactorSignInWithTotpAndRecoveryCodes) {
  start();
  auto s = signed_up("ivy@example.org");
  auto enrol = server_->request("POST", "/api/v1/me/totp", s.bearer()).json();
  ASSERT_TRUE(enrol["qr_svg"].get<std::string>().starts_with("<svg"));
  const auto secret = *account::base32_decode(enrol["secret"].get<std::string>());
  auto code_now = [&] { return account::hotp(secret, account::totp_step(std::time(nullptr))); };
  auto confirmed = server_->request("POST", "/api/v1/me/totp/confirm", s.bearer_json(),
                                    json{{"code", code_now()}}.dump());
  ASSERT_EQ(confirmed.status, 200) << confirmed.body;
  const auto codes = confirmed.json()["recovery_codes"];
  ASSERT_EQ(codes.size(), 10u);
  expect_error(login("ivy@example.org"), 401, "totp_required");
  expect_error(login("ivy@example.org", kPassword, "000000"), 401, "invalid_totp");
  const std::string recovery = codes[0];
  EXPECT_EQ(login("ivy@example.org", kPassword, recovery).status, 200);
  expect_error(login("ivy@example.org", kPassword, recovery), 401, "invalid_totp");
  EXPECT_EQ(server_->request("GET", "/api/v1/me", s.bearer()).json()["totp_enabled"], true);
}

}  // namespace
}  // namespace nj::testing

namespace nj::testing {
namespace {

// The policy's "change" section (#16): a new version is asked for at the next sign-in; a
// major one is also told to everyone by e-mail, once, with what changed; the history is
// public; accepting anything but the version in force is refused.
TEST(PolicyChangeTest, ANewVersionIsAskedForAndAMajorOneIsToldByMail) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("nj-policy-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
  };
  write("version", "2026-11-01\n");
  write("en.md", "# Privacy\n\nThe first version.\n");
  ServerProcess server("[accounts]\npolicy_dir = \"" + dir.string() + "\"\n");
  ASSERT_TRUE(server.start()) << server.log();
  const auto person = sign_up(server, "person@example.org");
  const auto me = [&] { return call_as(server, person, "GET", "/api/v1/me").json()["policy"]; };
  EXPECT_EQ(me()["must_accept"], false) << me().dump();
  const auto told = [&] {
    int n = 0;
    std::stringstream lines(server.admin("outbox"));
    for (std::string line; std::getline(lines, line);) {
      const auto m = json::parse(line, nullptr, false);
      if (m.is_object() && m.value("subject", "") == "Our privacy policy has changed") {
        EXPECT_EQ(m["to"], "person@example.org");
        EXPECT_NE(m.value("body", "").find("Recordings are now kept"), std::string::npos);
        ++n;
      }
    }
    return n;
  };
  EXPECT_EQ(told(), 0) << "the first version is no change";

  // A major change: everyone is told, once, and asked at their next sign-in.
  ASSERT_EQ(server.stop(), 0);
  write("version", "2026-12-05\n");
  write("en.md", "# Privacy\n\nThe second version.\n");
  write("major", "");
  write("changes.md", "Recordings are now kept in your region only.\n");
  ASSERT_TRUE(server.start()) << server.log();
  EXPECT_EQ(told(), 1);
  auto policy = me();
  EXPECT_EQ(policy["must_accept"], true);
  EXPECT_EQ(policy["accepted"], "2026-11-01");
  EXPECT_EQ(policy["current"], "2026-12-05");
  EXPECT_EQ(
      call_as(server, person, "POST", "/api/v1/me/policy", {{"version", "2026-11-01"}}).status,
      409);
  EXPECT_EQ(call_as(server, person, "POST", "/api/v1/me/policy", json::object()).status, 400);
  EXPECT_EQ(me()["must_accept"], true) << "nothing was accepted";
  EXPECT_EQ(
      call_as(server, person, "POST", "/api/v1/me/policy", {{"version", "2026-12-05"}}).status,
      204);
  EXPECT_EQ(me()["must_accept"], false);
  const auto history = server.get("/api/v1/policy/history").json();
  ASSERT_EQ(history["versions"].size(), 2u) << history.dump();
  EXPECT_EQ(history["current"], "2026-12-05");
  EXPECT_EQ(history["versions"][0]["version"], "2026-12-05");
  EXPECT_EQ(history["versions"][0]["major"], true);
  EXPECT_EQ(history["versions"][1]["major"], false);

  // A restart tells no one again; a minor change is asked for but not mailed.
  ASSERT_EQ(server.stop(), 0);
  ASSERT_TRUE(server.start()) << server.log();
  EXPECT_EQ(told(), 1);
  ASSERT_EQ(server.stop(), 0);
  write("version", "2026-12-06\n");
  std::filesystem::remove(dir / "major");
  ASSERT_TRUE(server.start()) << server.log();
  EXPECT_EQ(told(), 1);
  EXPECT_EQ(me()["must_accept"], true);
  EXPECT_EQ(server.stop(), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nj::testing

namespace nj::testing {
namespace {

// Privacy requests (#16, policy item 37): filed in the app, due in 15 working days, answered
// by the operator with `nightjar admin`, the answer seen in the app and told by e-mail; each
// person sees only their own; they go with a cancelled account.
TEST(PrivacyRequestsTest, FiledAnsweredWithinFifteenWorkingDaysAndSeenOnlyByTheirAuthor) {
  ServerProcess server("[privacy]\nholidays = [\"2026-12-25\"]\n");
  ASSERT_TRUE(server.start()) << server.log();
  const auto person = sign_up(server, "person@example.org");
  const auto other = sign_up(server, "other@example.org");
  auto filed = call_as(server, person, "POST", "/api/v1/me/requests",
                       {{"kind", "access"}, {"text", "Which data of mine do you keep?"}});
  ASSERT_EQ(filed.status, 201) << filed.body;
  const std::string id = filed.json()["id"];
  EXPECT_EQ(filed.json()["status"], "open");
  EXPECT_TRUE(filed.json()["answer"].is_null());
  EXPECT_EQ(
      call_as(server, person, "POST", "/api/v1/me/requests", {{"kind", "refund"}, {"text", "x"}})
          .status,
      400);
  EXPECT_EQ(call_as(server, person, "POST", "/api/v1/me/requests", {{"kind", "question"}}).status,
            400);
  EXPECT_EQ(call_as(server, other, "GET", "/api/v1/me/requests").json()["requests"].size(), 0u)
      << "another person sees none of it";
  // The operator's list: open, not overdue, from whom.
  const auto listed = json::parse(server.admin("requests"));
  EXPECT_EQ(listed["id"], id);
  EXPECT_EQ(listed["from"], "person@example.org");
  EXPECT_EQ(listed["overdue"], false);
  EXPECT_GT(listed["due_ms"].get<int64_t>(), listed["created_ms"].get<int64_t>() + 14 * 86'400'000);
  // Answered: the person reads it, and is told.
  const auto answered =
      server.admin("request answer --id " + id + " --text 'Your account, cameras and consents.'");
  EXPECT_NE(answered.find("answered"), std::string::npos) << answered;
  const auto mine = call_as(server, person, "GET", "/api/v1/me/requests").json()["requests"];
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0]["status"], "answered");
  EXPECT_EQ(mine[0]["answer"], "Your account, cameras and consents.");
  EXPECT_NE(server.admin("outbox").find("Your privacy request was answered"), std::string::npos);
  EXPECT_EQ(server.admin("request answer --id " + id + " --text again"), "") << "once";
  // Cancelled: the requests go with the account.
  ASSERT_EQ(call_as(server, person, "DELETE", "/api/v1/me",
                    {{"password", "a long passphrase for person@example.org"}})
                .status,
            204);
  EXPECT_EQ(server.admin("requests"), "");
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace nj::testing

namespace nj::testing {
namespace {

// The data export through the API (#16): asked for, built in the background with its
// progress shown, told by e-mail, downloaded by its owner only as a ZIP.
TEST(ExportTest, AskedForBuiltToldAndDownloadedByItsOwnerOnly) {
  ServerProcess server;
  ASSERT_TRUE(server.start()) << server.log();
  const auto person = sign_up(server, "person@example.org");
  const auto other = sign_up(server, "other@example.org");
  auto asked = call_as(server, person, "POST", "/api/v1/me/export");
  ASSERT_EQ(asked.status, 202) << asked.body;
  const std::string id = asked.json()["id"];
  json state;
  ASSERT_TRUE(wait_for(
      [&] {
        state = call_as(server, person, "GET", "/api/v1/me/export").json()["export"];
        return state.is_object() && state["state"] == "ready";
      },
      15s))
      << state.dump() << server.log();
  EXPECT_EQ(state["done"], state["total"]);
  const std::string download = state["download"];
  EXPECT_EQ(download, "/api/v1/me/export/" + id + "/download");
  const auto zip = server.request("GET", download, {{"Authorization", "Bearer " + person}});
  ASSERT_EQ(zip.status, 200);
  EXPECT_EQ(zip.header("content-type"), "application/zip");
  EXPECT_EQ(zip.body.substr(0, 2), "PK");
  EXPECT_NE(zip.body.find("person@example.org"), std::string::npos) << "stored, not compressed";
  EXPECT_EQ(zip.body.find("other@example.org"), std::string::npos);
  EXPECT_EQ(server.request("GET", download, {{"Authorization", "Bearer " + other}}).status, 404);
  EXPECT_EQ(server.request("GET", download).status, 401);
  EXPECT_NE(server.admin("outbox").find("Your data is ready to download"), std::string::npos);
  EXPECT_EQ(call_as(server, other, "GET", "/api/v1/me/export").json()["export"], nullptr);
  // On disk it is sealed with a key of its own (docs/keys.md), outside the data directory.
  std::ifstream in(server.data_dir() / "exports" / (id + ".zip"), std::ios::binary);
  const std::string raw((std::istreambuf_iterator<char>(in)), {});
  ASSERT_FALSE(raw.empty());
  EXPECT_EQ(raw.substr(0, 4), "NJR1");
  EXPECT_EQ(raw.find("person@example.org"), std::string::npos);
  EXPECT_EQ(raw.find("PK\x03\x04"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(server.data_dir().parent_path() / "data-keys" / "exports"));
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace nj::testing
