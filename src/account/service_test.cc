#include "account/service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>

#include "account/crypto.h"
#include "account/totp.h"
#include "store/migrations.h"
#include "store/test_postgres.h"

namespace nj::account {
namespace {

constexpr const char* kPolicy = "2026-11-29";
constexpr const char* kPassword = "correct horse battery staple";

class AccountServiceTest : public ::testing::Test {
 protected:
  explicit AccountServiceTest(int64_t session_cache_ms = 0)
      : db_(store::testing::open_test_database()),
        clock_(1'795'947'665'000),
        outbox_(*db_, clock_, false) {
    EXPECT_TRUE(store::migrate(*db_, store::builtin_migrations()));
    AccountOptions o;
    o.policy_version = kPolicy;
    o.public_url = "http://nj.test";
    o.hash_cost = {1, 8192};  // fast in tests; the default is checked in password_test
    o.throttle = {.account_threshold = 3, .address_threshold = 1000, .base_lock_ms = 10'000};
    o.session_cache_ms = session_cache_ms;
    service_ = std::make_unique<AccountService>(*db_, outbox_, clock_, o);
  }

  // The token in the newest mail to `to` whose link contains `path`.
  std::string token_from_mail(const std::string& to, const std::string& path) {
    auto mails = outbox_.list();
    EXPECT_TRUE(mails);
    for (auto it = mails->rbegin(); it != mails->rend(); ++it) {
      if (it->mail.to != to) continue;
      std::smatch m;
      const std::regex re(path + "\\?token=([A-Za-z0-9_-]+)");
      if (std::regex_search(it->mail.body, m, re)) return m[1];
    }
    return {};
  }

  Principal signed_up(const std::string& email) {
    EXPECT_TRUE(service_->register_account(email, kPassword, "en", kPolicy));
    EXPECT_TRUE(service_->verify_email(token_from_mail(email, "/verify")));
    auto s = service_->login(email, kPassword, "", "test", "127.0.0.1");
    EXPECT_TRUE(s) << s.error().message;
    return *service_->authenticate(s->token);
  }

  std::unique_ptr<store::Database> db_;
  ManualClock clock_;
  mail::Outbox outbox_;
  std::unique_ptr<AccountService> service_;
};

TEST_F(AccountServiceTest, RegisterVerifyLoginAuthenticate) {
  ASSERT_TRUE(service_->register_account("Ann@Example.org", kPassword, "zh-CN", kPolicy));
  auto early = service_->login("ann@example.org", kPassword, "", "t", "ip");
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, Errc::kEmailNotVerified);
  const auto token = token_from_mail("ann@example.org", "/verify");
  ASSERT_FALSE(token.empty());
  ASSERT_TRUE(service_->verify_email(token));
  auto session = service_->login("ANN@example.org", kPassword, "", "Firefox", "ip");
  ASSERT_TRUE(session) << session.error().message;
  auto who = service_->authenticate(session->token);
  ASSERT_TRUE(who);
  EXPECT_EQ(who->language, "zh-CN");
  EXPECT_EQ(session->profile.email, "ann@example.org");
  // The acceptance of the policy is on record.
  auto rows = db_->query("SELECT policy_version FROM policy_acceptances");
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().text(0), kPolicy);
  // Tokens are stored hashed, never in clear.
  auto stored = db_->query("SELECT token_hash FROM sessions");
  EXPECT_EQ(stored->front().text(0), sha256_hex(session->token));
}

TEST_F(AccountServiceTest, RegistrationRejectsBadInputAndOldPolicy) {
  EXPECT_EQ(service_->register_account("not-an-email", kPassword, "en", kPolicy).error().code,
            Errc::kInvalidInput);
  EXPECT_EQ(service_->register_account("a@b.org", "password", "en", kPolicy).error().code,
            Errc::kWeakPassword);
  EXPECT_EQ(service_->register_account("a@b.org", kPassword, "fr", kPolicy).error().code,
            Errc::kInvalidInput);
  EXPECT_EQ(service_->register_account("a@b.org", kPassword, "en", "2020-01-01").error().code,
            Errc::kPolicyVersion);
  EXPECT_EQ(db_->query("SELECT COUNT(*) FROM users")->front().integer(0), 0);
}

TEST_F(AccountServiceTest, RegisteringAnExistingAddressRevealsNothing) {
  signed_up("bob@example.org");
  auto again =
      service_->register_account("bob@example.org", "another good passphrase", "en", kPolicy);
  EXPECT_TRUE(again) << "same answer as a new registration";
  const auto mails = outbox_.list();
  EXPECT_EQ(std::count_if(mails->begin(), mails->end(),
                          [](const mail::OutboxEntry& e) {
                            return e.mail.subject == "Someone tried to sign up with your address";
                          }),
            1);
  EXPECT_EQ(db_->query("SELECT COUNT(*) FROM users")->front().integer(0), 1);
}

TEST_F(AccountServiceTest, WrongPasswordAndUnknownEmailLookTheSame) {
  signed_up("carol@example.org");
  auto wrong = service_->login("carol@example.org", "wrong password!", "", "t", "ip");
  auto unknown = service_->login("nobody@example.org", kPassword, "", "t", "ip");
  ASSERT_FALSE(wrong);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(wrong.error().code, Errc::kInvalidCredentials);
  EXPECT_EQ(unknown.error().code, Errc::kInvalidCredentials);
  EXPECT_EQ(wrong.error().message, unknown.error().message);
}

TEST_F(AccountServiceTest, LockoutEngagesAndReleases) {
  signed_up("dan@example.org");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(service_->login("dan@example.org", "wrong password!", "", "t", "ip").error().code,
              Errc::kInvalidCredentials);
  }
  auto locked = service_->login("dan@example.org", kPassword, "", "t", "ip");
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().code, Errc::kLockedOut);
  EXPECT_EQ(locked.error().retry_after_ms, 10'000);
  clock_.advance_ms(10'000);
  EXPECT_TRUE(service_->login("dan@example.org", kPassword, "", "t", "ip"));
}

TEST_F(AccountServiceTest, EmailTokensWorkOnceAndExpire) {
  ASSERT_TRUE(service_->register_account("eve@example.org", kPassword, "en", kPolicy));
  const auto verify = token_from_mail("eve@example.org", "/verify");
  ASSERT_TRUE(service_->verify_email(verify));
  EXPECT_EQ(service_->verify_email(verify).error().code, Errc::kInvalidToken) << "used once";
  ASSERT_TRUE(service_->request_password_reset("eve@example.org"));
  const auto reset = token_from_mail("eve@example.org", "/reset-password");
  clock_.advance_ms(3600 * 1000 + 1);
  EXPECT_EQ(service_->reset_password(reset, "a brand new passphrase").error().code,
            Errc::kInvalidToken)
      << "expired after an hour";
  EXPECT_EQ(service_->verify_email("made-up-token").error().code, Errc::kInvalidToken);
}

TEST_F(AccountServiceTest, PasswordResetWorksOnceAndEndsSessions) {
  signed_up("fay@example.org");
  auto session = service_->login("fay@example.org", kPassword, "", "t", "ip");
  ASSERT_TRUE(service_->request_password_reset("fay@example.org"));
  const auto reset = token_from_mail("fay@example.org", "/reset-password");
  EXPECT_EQ(service_->reset_password(reset, "password").error().code, Errc::kWeakPassword);
  ASSERT_TRUE(service_->reset_password(reset, "a brand new passphrase")) << "weak try kept it";
  EXPECT_EQ(service_->reset_password(reset, "another new passphrase").error().code,
            Errc::kInvalidToken);
  EXPECT_FALSE(service_->authenticate(session->token)) << "old sessions end";
  EXPECT_FALSE(service_->login("fay@example.org", kPassword, "", "t", "ip"));
  EXPECT_TRUE(service_->login("fay@example.org", "a brand new passphrase", "", "t", "ip"));
  // Unknown addresses get the same answer and no mail.
  const auto before = outbox_.list()->size();
  EXPECT_TRUE(service_->request_password_reset("ghost@example.org"));
  EXPECT_EQ(outbox_.list()->size(), before);
}

TEST_F(AccountServiceTest, SessionsExpireWhenIdleAndAbsolutely) {
  signed_up("gus@example.org");
  auto s = service_->login("gus@example.org", kPassword, "", "t", "ip");
  clock_.advance_ms(13LL * 24 * 3600 * 1000);
  ASSERT_TRUE(service_->authenticate(s->token)) << "used within the idle window";
  clock_.advance_ms(13LL * 24 * 3600 * 1000);
  ASSERT_TRUE(service_->authenticate(s->token));
  clock_.advance_ms(5LL * 24 * 3600 * 1000);
  EXPECT_FALSE(service_->authenticate(s->token)) << "31 days: past the absolute limit";
  auto idle = service_->login("gus@example.org", kPassword, "", "t", "ip");
  clock_.advance_ms(15LL * 24 * 3600 * 1000);
  EXPECT_FALSE(service_->authenticate(idle->token)) << "15 idle days";
}

TEST_F(AccountServiceTest, TotpEnrolLoginReplayAndRecoveryCodes) {
  auto who = signed_up("hal@example.org");
  auto enrol = service_->totp_begin(who);
  ASSERT_TRUE(enrol);
  const auto secret = *base32_decode(enrol->secret);
  const int64_t now_s = clock_.now_ms() / 1000;
  EXPECT_EQ(service_->totp_confirm(who, "000000").error().code, Errc::kInvalidTotp);
  auto codes = service_->totp_confirm(who, hotp(secret, totp_step(now_s)));
  ASSERT_TRUE(codes) << codes.error().message;
  ASSERT_EQ(codes->size(), 10u);

  auto need = service_->login("hal@example.org", kPassword, "", "t", "ip");
  EXPECT_EQ(need.error().code, Errc::kTotpRequired);
  // The code used to confirm cannot be used again (single use per step).
  EXPECT_EQ(service_->login("hal@example.org", kPassword, hotp(secret, totp_step(now_s)), "t", "ip")
                .error()
                .code,
            Errc::kInvalidTotp);
  clock_.advance_ms(30'000);
  const auto next = hotp(secret, totp_step(clock_.now_ms() / 1000));
  EXPECT_TRUE(service_->login("hal@example.org", kPassword, next, "t", "ip"));
  EXPECT_FALSE(service_->login("hal@example.org", kPassword, next, "t", "ip")) << "replayed";
  // A recovery code works once, with or without its dash.
  EXPECT_TRUE(service_->login("hal@example.org", kPassword, codes->at(0), "t", "ip"));
  EXPECT_FALSE(service_->login("hal@example.org", kPassword, codes->at(0), "t", "ip"));
  std::string undashed = codes->at(1);
  undashed.erase(5, 1);
  EXPECT_TRUE(service_->login("hal@example.org", kPassword, undashed, "t", "ip"));
}

TEST_F(AccountServiceTest, CancellationIsImmediateThenAnonymised) {
  auto who = signed_up("ivy@example.org");
  auto other = service_->login("ivy@example.org", kPassword, "", "phone", "ip");
  EXPECT_EQ(service_->cancel(who, "wrong password!", "").error().code, Errc::kInvalidCredentials);
  ASSERT_TRUE(service_->cancel(who, kPassword, ""));
  EXPECT_FALSE(service_->authenticate(other->token)) << "every session ends at once";
  EXPECT_EQ(service_->login("ivy@example.org", kPassword, "", "t", "ip").error().code,
            Errc::kInvalidCredentials);
  auto jobs = service_->jobs();
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ(jobs->front().state, "queued");
  ASSERT_EQ(*service_->run_jobs(), 1);
  EXPECT_EQ(service_->jobs()->front().state, "done");
  auto row = db_->query("SELECT email, password_hash, display_name FROM users");
  EXPECT_EQ(row->front().text(0), "cancelled-" + who.user_id + "@invalid");
  EXPECT_EQ(row->front().text(1), "");
  const auto mails = outbox_.list();
  for (const auto& m : *mails) EXPECT_NE(m.mail.to, "ivy@example.org");
  // The address is free again.
  EXPECT_TRUE(service_->register_account("ivy@example.org", kPassword, "en", kPolicy));
}

TEST_F(AccountServiceTest, NobodyActsOnAnotherPersonsSessions) {
  auto jo = signed_up("jo@example.org");
  auto kim = signed_up("kim@example.org");
  EXPECT_EQ(service_->end_session(jo, kim.session_id).error().code, Errc::kNotFound);
  EXPECT_TRUE(
      service_->authenticate(service_->login("kim@example.org", kPassword, "", "t", "ip")->token));
  auto listed = service_->sessions(jo);
  for (const auto& s : *listed) EXPECT_NE(s.id, kim.session_id);
  EXPECT_TRUE(service_->end_session(kim, kim.session_id));
}

// With sessions kept resolved for a while (a database across the network), every end of a
// session made through this node is at once, and one made elsewhere is at once when told
// (the change feed) and within the keeping time when not.
class CachedSessionsTest : public AccountServiceTest {
 protected:
  CachedSessionsTest() : AccountServiceTest(5'000) {
    service_->set_on_sessions_changed([this](const std::string& user) { told_.push_back(user); });
  }
  std::string token(const std::string& email) {
    auto s = service_->login(email, kPassword, "", "t", "ip");
    EXPECT_TRUE(s);
    EXPECT_TRUE(service_->authenticate(s->token)) << "resolved, and so kept";
    return s->token;
  }
  std::vector<std::string> told_;
};

TEST_F(CachedSessionsTest, EveryEndOfASessionMadeHereIsAtOnce) {
  const auto who = signed_up("lea@example.org");
  const auto other = token("lea@example.org");
  ASSERT_TRUE(service_->end_other_sessions(who));
  EXPECT_FALSE(service_->authenticate(other)) << "ended elsewhere in the list";

  const auto mine = token("lea@example.org");
  const auto me = *service_->authenticate(mine);
  ASSERT_TRUE(service_->update_profile(me, std::nullopt, std::string("zh-CN")));
  EXPECT_EQ(service_->authenticate(mine)->language, "zh-CN") << "a session carries it";
  const auto third = token("lea@example.org");
  ASSERT_TRUE(service_->end_session(me, service_->authenticate(third)->session_id));
  EXPECT_FALSE(service_->authenticate(third));
  ASSERT_TRUE(service_->logout(me));
  EXPECT_FALSE(service_->authenticate(mine));

  const auto before_reset = token("lea@example.org");
  ASSERT_TRUE(service_->request_password_reset("lea@example.org"));
  ASSERT_TRUE(service_->reset_password(token_from_mail("lea@example.org", "/reset-password"),
                                       "a brand new passphrase"));
  EXPECT_FALSE(service_->authenticate(before_reset));

  auto s = service_->login("lea@example.org", "a brand new passphrase", "", "t", "ip");
  ASSERT_TRUE(s);
  const auto last = *service_->authenticate(s->token);
  ASSERT_TRUE(service_->cancel(last, "a brand new passphrase", ""));
  EXPECT_FALSE(service_->authenticate(s->token));
  EXPECT_GE(std::count(told_.begin(), told_.end(), who.user_id), 6) << "each told to the nodes";
}

TEST_F(CachedSessionsTest, AnEndElsewhereIsAtOnceWhenToldAndWithinTheKeepingTimeWhenNot) {
  const auto who = signed_up("max@example.org");
  auto kept = token("max@example.org");
  // Another node deletes the sessions; this one is told over the change feed.
  ASSERT_TRUE(db_->execute("DELETE FROM sessions"));
  service_->forget_sessions(who.user_id);
  EXPECT_FALSE(service_->authenticate(kept));

  // Told nothing (the feed away): the kept answer lasts its 5 s and no longer.
  kept = token("max@example.org");
  ASSERT_TRUE(db_->execute("DELETE FROM sessions"));
  EXPECT_TRUE(service_->authenticate(kept)) << "kept";
  clock_.advance_ms(5'001);
  EXPECT_FALSE(service_->authenticate(kept));

  // Forgetting everything (after the feed was away) drops every kept session.
  kept = token("max@example.org");
  ASSERT_TRUE(db_->execute("DELETE FROM sessions"));
  service_->forget_sessions("");
  EXPECT_FALSE(service_->authenticate(kept));

  // A session's own end holds while it is kept: a second past its 30 days it is refused.
  const auto lasting = token("max@example.org");
  clock_.advance_ms(13LL * 24 * 3600 * 1000);
  ASSERT_TRUE(service_->authenticate(lasting));
  clock_.advance_ms(13LL * 24 * 3600 * 1000);
  ASSERT_TRUE(service_->authenticate(lasting));
  clock_.advance_ms(4LL * 24 * 3600 * 1000 - 1'000);
  ASSERT_TRUE(service_->authenticate(lasting)) << "a second before its end: kept again";
  clock_.advance_ms(2'000);
  EXPECT_FALSE(service_->authenticate(lasting));
}

TEST(Email, Normalisation) {
  EXPECT_EQ(normalize_email("A.B@Example.ORG"), "a.b@example.org");
  for (const char* bad : {"", "a", "@b.org", "a@", "a@@b.org", "a b@c.org", "a@b..org", "a@.b.org",
                          "a@b.org.", "<a@b.org>", "a@b.org\r\nBcc: x@y.org"}) {
    EXPECT_FALSE(normalize_email(bad)) << bad;
  }
  EXPECT_FALSE(normalize_email(std::string(250, 'a') + "@b.org"));
}

}  // namespace
}  // namespace nj::account
