#include "account/service.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "account/crypto.h"
#include "account/totp.h"

namespace nj::account {

namespace {

using store::Value;

AccountError internal(const store::StoreError& e) {
  spdlog::error("account.store_error code={} message=\"{}\"", store::errc_name(e.code), e.message);
  if (e.code == store::Errc::kUnavailable) {
    return AccountError{Errc::kUnavailable, "the database is unavailable just now", {}, 1000};
  }
  return AccountError{Errc::kInternal, "internal error", {}, 0};
}

AccountError invalid(std::string field, std::string message) {
  return AccountError{Errc::kInvalidInput, std::move(message), std::move(field), 0};
}

constexpr size_t kMaxDisplayName = 100;
constexpr size_t kMaxClient = 200;
constexpr int kRecoveryCodes = 10;

struct MailText {
  const char* subject;
  const char* body;  // {link} is replaced
};

MailText mail_text(const std::string& kind, const std::string& language) {
  const bool zh = language == "zh-CN";
  if (kind == "verify") {
    return zh ? MailText{"确认你的 Nightjar 邮箱地址",
                         "你好！\n\n请打开下面的链接，确认这是你的邮箱地址：\n\n{link}\n\n"
                         "链接 24 小时内有效，只能使用一次。如果你没有注册 "
                         "Nightjar，请忽略本邮件。\n"}
              : MailText{
                    "Confirm your Nightjar e-mail address",
                    "Hello,\n\nOpen this link to confirm that this address is yours:\n\n{link}\n\n"
                    "The link works once and expires in 24 hours. If you did not sign up for "
                    "Nightjar, ignore this message.\n"};
  }
  if (kind == "reset") {
    return zh ? MailText{"重置你的 Nightjar 密码",
                         "你好！\n\n有人请求重置你的 Nightjar "
                         "密码。打开下面的链接设置新密码：\n\n{link}\n\n"
                         "链接 1 "
                         "小时内有效，只能使用一次。如果不是你本人操作，请忽略本邮件，你的密码不会"
                         "改变。\n"}
              : MailText{
                    "Reset your Nightjar password",
                    "Hello,\n\nSomeone asked to reset your Nightjar password. Open this link to "
                    "choose a new one:\n\n{link}\n\nThe link works once and expires in 1 hour. "
                    "If it was not you, ignore this message; your password stays as it is.\n"};
  }
  // "exists": someone tried to register with an address that already has an account.
  return zh ? MailText{"有人尝试用你的邮箱注册 Nightjar",
                       "你好！\n\n有人尝试用这个邮箱地址注册 Nightjar，但它已经有账户了。"
                       "如果是你本人，可以直接登录；忘记密码可以在这里重置：\n\n{link}\n\n"
                       "如果不是你本人，请忽略本邮件。\n"}
            : MailText{"Someone tried to sign up with your address",
                       "Hello,\n\nSomeone tried to create a Nightjar account with this address, "
                       "but it already has one. If that was you, just sign in; if you forgot your "
                       "password, reset it here:\n\n{link}\n\nIf it was not you, ignore this "
                       "message.\n"};
}

std::string recovery_code() {
  // 10 characters from an unambiguous alphabet, shown as XXXXX-XXXXX.
  static constexpr char kAlphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";
  const auto bytes = random_bytes(10);
  std::string code;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 5) code += '-';
    code += kAlphabet[bytes[i] % (sizeof kAlphabet - 1)];
  }
  return code;
}

std::string normalize_code(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c == ' ' || c == '-') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

struct AccountService::UserRow {
  std::string id, email, password_hash, display_name, language, status, totp_secret;
  int64_t created_at = 0;
  bool verified = false;
  bool totp_enabled = false;
  int64_t totp_last_step = -1;

  Profile profile() const {
    return Profile{id, email, display_name, language, created_at, verified, totp_enabled};
  }
};

bool valid_language(std::string_view language) { return language == "en" || language == "zh-CN"; }

std::optional<std::string> normalize_email(std::string_view email) {
  if (email.empty() || email.size() > 254) return std::nullopt;
  const auto at = email.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 >= email.size() ||
      email.find('@', at + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  std::string out;
  for (unsigned char c : email) {
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',' || c == ';' || c == '"') {
      return std::nullopt;
    }
    out += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
  const auto domain = std::string_view(out).substr(at + 1);
  if (domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return std::nullopt;
  }
  return out;
}

namespace {
constexpr size_t kKeptSessions = 100'000;  // sessions kept resolved (session_cache_ms)
}  // namespace

AccountService::AccountService(store::Database& db, mail::Outbox& outbox, const Clock& clock,
                               AccountOptions options, std::function<void()> mail_queued)
    : db_(db),
      outbox_(outbox),
      clock_(clock),
      options_(std::move(options)),
      mail_queued_(std::move(mail_queued)),
      kept_(kKeptSessions),
      throttle_(clock, options_.throttle),
      dummy_hash_(hash_password(random_token(), options_.hash_cost).value_or("")) {}

namespace {
constexpr const char* kUserColumns =
    "id, email, password_hash, display_name, language, status, COALESCE(totp_secret, ''), "
    "created_at, email_verified_at IS NOT NULL, totp_enabled_at IS NOT NULL, "
    "COALESCE(totp_last_step, -1)";
}

AResult<std::optional<AccountService::UserRow>> AccountService::find_user_where(
    const char* column, const std::string& value) {
  const Value p[] = {value};
  auto rows =
      db_.query(std::string("SELECT ") + kUserColumns + " FROM users WHERE " + column + " = $1", p);
  if (!rows) return Unexpected(internal(rows.error()));
  if (rows->empty()) return std::optional<UserRow>();
  const auto& r = rows->front();
  return std::optional<UserRow>(UserRow{r.text(0), r.text(1), r.text(2), r.text(3), r.text(4),
                                        r.text(5), r.text(6), r.integer(7), r.integer(8) != 0,
                                        r.integer(9) != 0, r.integer(10)});
}

AResult<std::optional<AccountService::UserRow>> AccountService::find_user_by_email(
    const std::string& email) {
  return find_user_where("email", email);
}

AResult<std::optional<AccountService::UserRow>> AccountService::find_user(const std::string& id) {
  return find_user_where("id", id);
}

void AccountService::send(const std::string& to, const std::string& language,
                          const std::string& kind, const std::string& link) {
  const auto text = mail_text(kind, language);
  std::string body = text.body;
  if (const auto pos = body.find("{link}"); pos != std::string::npos) body.replace(pos, 6, link);
  if (auto r = outbox_.enqueue(mail::Mail{to, text.subject, body}); !r) {
    spdlog::error("account.mail_enqueue_failed error=\"{}\"", r.error().message);
    return;
  }
  if (mail_queued_) mail_queued_();
}

AResult<std::string> AccountService::issue_email_token(const std::string& user_id,
                                                       const std::string& purpose, int64_t ttl_ms) {
  const auto token = random_token();
  const int64_t now = clock_.now_ms();
  const Value p[] = {sha256_hex(token), user_id, purpose, now, now + ttl_ms};
  if (auto r = db_.execute(
          "INSERT INTO email_tokens (token_hash, user_id, purpose, created_at, expires_at) "
          "VALUES ($1, $2, $3, $4, $5)",
          p);
      !r) {
    return Unexpected(internal(r.error()));
  }
  return token;
}

AResult<std::string> AccountService::consume_email_token(const std::string& token,
                                                         const std::string& purpose) {
  const AccountError bad{Errc::kInvalidToken, "the link is invalid, used or expired", "token", 0};
  if (token.empty() || token.size() > 128) return Unexpected(bad);
  const auto hash = sha256_hex(token);
  const Value p[] = {hash, purpose, clock_.now_ms()};
  // One statement marks it used, so a token raced from two requests works only once.
  auto changed = db_.execute(
      "UPDATE email_tokens SET used_at = $3 WHERE token_hash = $1 AND purpose = $2 "
      "AND used_at IS NULL AND expires_at > $3",
      p);
  if (!changed) return Unexpected(internal(changed.error()));
  if (*changed != 1) return Unexpected(bad);
  const Value q[] = {hash};
  auto rows = db_.query(
      "SELECT t.user_id FROM email_tokens t JOIN users u ON u.id = t.user_id "
      "WHERE t.token_hash = $1 AND u.status = 'active'",
      q);
  if (!rows) return Unexpected(internal(rows.error()));
  if (rows->empty()) return Unexpected(bad);
  return rows->front().text(0);
}

AResult<void> AccountService::register_account(const std::string& email_in,
                                               const std::string& password,
                                               const std::string& language,
                                               const std::string& policy_version,
                                               const std::string& region) {
  const auto email = normalize_email(email_in);
  if (!email) return Unexpected(invalid("email", "the e-mail address is not valid"));
  if (!valid_language(language)) {
    return Unexpected(invalid("language", "language must be \"en\" or \"zh-CN\""));
  }
  if (policy_version != options_.policy_version) {
    return Unexpected(
        AccountError{Errc::kPolicyVersion,
                     "accept the current privacy policy (version " + options_.policy_version + ")",
                     "policy_version", 0});
  }
  if (auto problem = check_password(password, *email)) {
    return Unexpected(AccountError{Errc::kWeakPassword,
                                   std::string(password_problem_message(*problem)), "password", 0});
  }
  // Hash before looking the address up, so both paths take the same time.
  const auto hash = hash_password(password, options_.hash_cost);
  if (!hash) return Unexpected(AccountError{Errc::kInternal, "out of memory", {}, 0});
  auto existing = find_user_by_email(*email);
  if (!existing) return Unexpected(existing.error());
  if (*existing) {
    if ((*existing)->status == "active") {
      send(*email, (*existing)->language, "exists", options_.public_url + "/forgot-password");
    }
    return {};
  }
  const auto id = random_id();
  const int64_t now = clock_.now_ms();
  std::string token;
  auto tx = db_.transaction([&](store::Database& tx) -> store::StoreResult<void> {
    const Value user[] = {id,       *email, *hash,
                          language, now,    region.empty() ? Value(nullptr) : Value(region)};
    if (auto r = tx.execute(
            "INSERT INTO users (id, email, password_hash, language, status, created_at, region) "
            "VALUES ($1, $2, $3, $4, 'active', $5, $6)",
            user);
        !r) {
      return Unexpected(r.error());
    }
    const Value acceptance[] = {id, policy_version, now};
    if (auto r = tx.execute("INSERT INTO policy_acceptances (user_id, policy_version, accepted_at) "
                            "VALUES ($1, $2, $3)",
                            acceptance);
        !r) {
      return Unexpected(r.error());
    }
    token = random_token();
    const Value t[] = {sha256_hex(token), id, now, now + options_.verify_token_ttl_ms};
    if (auto r = tx.execute(
            "INSERT INTO email_tokens (token_hash, user_id, purpose, created_at, expires_at) "
            "VALUES ($1, $2, 'verify', $3, $4)",
            t);
        !r) {
      return Unexpected(r.error());
    }
    return {};
  });
  if (!tx) {
    // Two registrations of one new address at once: the loser behaves like "exists".
    if (tx.error().code == store::Errc::kConstraint) return {};
    return Unexpected(internal(tx.error()));
  }
  send(*email, language, "verify", options_.public_url + "/verify?token=" + token);
  spdlog::info("account.registered user={}", id);
  return {};
}

AResult<std::string> AccountService::create_verified_account(const std::string& email_in,
                                                             const std::string& password,
                                                             const std::string& language) {
  const auto email = normalize_email(email_in);
  if (!email) return Unexpected(invalid("email", "the e-mail address is not valid"));
  if (!valid_language(language)) {
    return Unexpected(invalid("language", "language must be \"en\" or \"zh-CN\""));
  }
  if (auto problem = check_password(password, *email)) {
    return Unexpected(AccountError{Errc::kWeakPassword,
                                   std::string(password_problem_message(*problem)), "password", 0});
  }
  const auto hash = hash_password(password, options_.hash_cost);
  if (!hash) return Unexpected(AccountError{Errc::kInternal, "out of memory", {}, 0});
  const auto id = random_id();
  const int64_t now = clock_.now_ms();
  auto tx = db_.transaction([&](store::Database& tx) -> store::StoreResult<void> {
    const Value user[] = {id, *email, *hash, language, now};
    if (auto r =
            tx.execute("INSERT INTO users (id, email, password_hash, language, status, created_at, "
                       "email_verified_at) VALUES ($1, $2, $3, $4, 'active', $5, $5)",
                       user);
        !r) {
      return Unexpected(r.error());
    }
    const Value acceptance[] = {id, options_.policy_version, now};
    if (auto r = tx.execute("INSERT INTO policy_acceptances (user_id, policy_version, accepted_at) "
                            "VALUES ($1, $2, $3)",
                            acceptance);
        !r) {
      return Unexpected(r.error());
    }
    return {};
  });
  if (!tx) {
    if (tx.error().code == store::Errc::kConstraint) {
      return Unexpected(
          AccountError{Errc::kConflict, "the address already has an account", "email", 0});
    }
    return Unexpected(internal(tx.error()));
  }
  return id;
}

AResult<void> AccountService::verify_email(const std::string& token) {
  auto user_id = consume_email_token(token, "verify");
  if (!user_id) return Unexpected(user_id.error());
  const Value p[] = {*user_id, clock_.now_ms()};
  if (auto r = db_.execute(
          "UPDATE users SET email_verified_at = $2 WHERE id = $1 AND email_verified_at IS NULL", p);
      !r) {
    return Unexpected(internal(r.error()));
  }
  return {};
}

AResult<void> AccountService::resend_verification(const std::string& email_in) {
  const auto email = normalize_email(email_in);
  if (!email) return Unexpected(invalid("email", "the e-mail address is not valid"));
  auto user = find_user_by_email(*email);
  if (!user) return Unexpected(user.error());
  if (*user && (*user)->status == "active" && !(*user)->verified) {
    auto token = issue_email_token((*user)->id, "verify", options_.verify_token_ttl_ms);
    if (!token) return Unexpected(token.error());
    send(*email, (*user)->language, "verify", options_.public_url + "/verify?token=" + *token);
  }
  return {};
}

AResult<void> AccountService::check_second_factor(const UserRow& user, const std::string& code_in) {
  const AccountError bad{Errc::kInvalidTotp, "the code is not valid", "totp", 0};
  const auto code = normalize_code(code_in);
  if (code.size() == 6 && std::all_of(code.begin(), code.end(), ::isdigit)) {
    const auto secret = base32_decode(user.totp_secret);
    if (!secret) return Unexpected(bad);
    const auto step = totp_match(*secret, code, clock_.now_ms() / 1000);
    if (!step || static_cast<int64_t>(*step) <= user.totp_last_step) return Unexpected(bad);
    // Record the step: the same code (or an older one) is refused from now on.
    const Value p[] = {user.id, static_cast<int64_t>(*step)};
    auto r = db_.execute(
        "UPDATE users SET totp_last_step = $2 WHERE id = $1 "
        "AND (totp_last_step IS NULL OR totp_last_step < $2)",
        p);
    if (!r) return Unexpected(internal(r.error()));
    if (*r != 1) return Unexpected(bad);
    return {};
  }
  if (code.size() == 10) {
    const Value p[] = {user.id, sha256_hex(code), clock_.now_ms()};
    auto r = db_.execute(
        "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 "
        "AND used_at IS NULL",
        p);
    if (!r) return Unexpected(internal(r.error()));
    if (*r == 1) return {};
  }
  return Unexpected(bad);
}

AResult<NewSession> AccountService::login(const std::string& email_in, const std::string& password,
                                          const std::string& second_factor,
                                          const std::string& client, const std::string& address) {
  const AccountError bad{
      Errc::kInvalidCredentials, "the e-mail address or password is wrong", {}, 0};
  const auto email = normalize_email(email_in);
  const std::string key = email.value_or(email_in.substr(0, 254));
  if (const auto wait = throttle_.retry_after_ms(key, address); wait > 0) {
    return Unexpected(
        AccountError{Errc::kLockedOut, "too many failed sign-ins; try again later", {}, wait});
  }
  if (!email || password.size() > 4 * kMaxPasswordChars) {
    (void)verify_password(dummy_hash_, password.substr(0, 512));
    throttle_.record_failure(key, address);
    return Unexpected(bad);
  }
  auto found = find_user_by_email(*email);
  if (!found) return Unexpected(found.error());
  const bool active = *found && (*found)->status == "active";
  // Unknown address: verify against a dummy hash so the answer takes as long.
  const bool password_ok =
      verify_password(active ? (*found)->password_hash : dummy_hash_, password) && active;
  if (!password_ok) {
    throttle_.record_failure(key, address);
    return Unexpected(bad);
  }
  const UserRow& user = **found;
  if (!user.verified) {
    return Unexpected(AccountError{Errc::kEmailNotVerified,
                                   "confirm your e-mail address first (see the message we sent)",
                                   "email", 0});
  }
  if (user.totp_enabled) {
    if (second_factor.empty()) {
      return Unexpected(AccountError{Errc::kTotpRequired,
                                     "enter the code from your authenticator app", "totp", 0});
    }
    if (auto ok = check_second_factor(user, second_factor); !ok) {
      throttle_.record_failure(key, address);
      return Unexpected(ok.error());
    }
  }
  throttle_.record_success(key, address);

  NewSession s;
  s.token = random_token();
  s.csrf_token = random_token();
  s.session_id = random_id();
  const int64_t now = clock_.now_ms();
  s.expires_at = now + options_.session_absolute_ms;
  s.profile = user.profile();
  const Value p[] = {s.session_id,
                     user.id,
                     sha256_hex(s.token),
                     sha256_hex(s.csrf_token),
                     client.substr(0, kMaxClient),
                     now,
                     s.expires_at};
  if (auto r = db_.execute(
          "INSERT INTO sessions (id, user_id, token_hash, csrf_hash, client, created_at, "
          "last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
          p);
      !r) {
    return Unexpected(internal(r.error()));
  }
  return s;
}

AResult<Principal> AccountService::authenticate(const std::string& token) {
  const AccountError none{Errc::kUnauthenticated, "sign in first", {}, 0};
  if (token.empty() || token.size() > 128) return Unexpected(none);
  const int64_t now = clock_.now_ms();
  const std::string hash = sha256_hex(token);
  if (options_.session_cache_ms > 0) {
    std::lock_guard lock(kept_mu_);
    // Kept, still within its terms, and not due for its once-a-minute touch.
    if (const Kept* k = kept_.find(hash); k && now - k->kept_at < options_.session_cache_ms &&
                                          now < k->expires_at && now - k->last_seen_at <= 60'000) {
      return k->who;
    }
  }
  uint64_t generation = 0;  // a forget while the database is read: what was read is not kept
  if (options_.session_cache_ms > 0) {
    std::lock_guard lock(kept_mu_);
    generation = forgets_;
  }
  const Value p[] = {hash, now, now - options_.session_idle_ms};
  auto rows = db_.query(
      "SELECT s.id, s.user_id, s.csrf_hash, u.language, s.last_seen_at, s.expires_at "
      "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 "
      "AND s.expires_at > $2 AND s.last_seen_at > $3 AND u.status = 'active'",
      p);
  if (!rows) return Unexpected(internal(rows.error()));
  if (rows->empty()) return Unexpected(none);
  const auto& r = rows->front();
  int64_t last_seen = r.integer(4);
  // Touch last_seen at most once a minute: a read stays a read.
  if (now - last_seen > 60'000) {
    const Value t[] = {r.text(0), now};
    if (db_.execute("UPDATE sessions SET last_seen_at = $2 WHERE id = $1", t)) last_seen = now;
  }
  Principal who{r.text(1), r.text(0), r.text(2), r.text(3)};
  if (options_.session_cache_ms > 0) {
    std::lock_guard lock(kept_mu_);
    if (forgets_ == generation) kept_.put(hash, Kept{who, r.integer(5), last_seen, now});
  }
  return who;
}

void AccountService::forget_sessions(const std::string& user_id) {
  std::lock_guard lock(kept_mu_);
  ++forgets_;
  if (user_id.empty()) {
    kept_.clear();
    return;
  }
  kept_.erase_if([&](const Kept& k) { return k.who.user_id == user_id; });
}

void AccountService::sessions_changed(const std::string& user_id) {
  forget_sessions(user_id);
  if (on_sessions_changed_) on_sessions_changed_(user_id);
}

bool AccountService::session_open(const std::string& session_id) {
  const int64_t now = clock_.now_ms();
  const Value p[] = {session_id, now, now - options_.session_idle_ms};
  auto rows = db_.query(
      "SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1 "
      "AND s.expires_at > $2 AND s.last_seen_at > $3 AND u.status = 'active'",
      p);
  return rows && !rows->empty();
}

AResult<void> AccountService::logout(const Principal& who) {
  const Value p[] = {who.session_id, who.user_id};
  if (auto r = db_.execute("DELETE FROM sessions WHERE id = $1 AND user_id = $2", p); !r) {
    return Unexpected(internal(r.error()));
  }
  sessions_changed(who.user_id);
  return {};
}

AResult<void> AccountService::request_password_reset(const std::string& email_in) {
  const auto email = normalize_email(email_in);
  if (!email) return Unexpected(invalid("email", "the e-mail address is not valid"));
  auto user = find_user_by_email(*email);
  if (!user) return Unexpected(user.error());
  if (*user && (*user)->status == "active") {
    auto token = issue_email_token((*user)->id, "reset", options_.reset_token_ttl_ms);
    if (!token) return Unexpected(token.error());
    send(*email, (*user)->language, "reset",
         options_.public_url + "/reset-password?token=" + *token);
  }
  return {};  // the same answer whether or not the address has an account
}

AResult<void> AccountService::reset_password(const std::string& token,
                                             const std::string& new_password) {
  // Check the password first so a weak one does not burn the token.
  if (auto problem = check_password(new_password, {})) {
    return Unexpected(AccountError{Errc::kWeakPassword,
                                   std::string(password_problem_message(*problem)), "password", 0});
  }
  const auto hash = hash_password(new_password, options_.hash_cost);
  if (!hash) return Unexpected(AccountError{Errc::kInternal, "out of memory", {}, 0});
  auto user_id = consume_email_token(token, "reset");
  if (!user_id) return Unexpected(user_id.error());
  auto tx = db_.transaction([&](store::Database& tx) -> store::StoreResult<void> {
    // A reset proves the mailbox: the address counts as verified. Every session ends.
    const Value p[] = {*user_id, *hash, clock_.now_ms()};
    if (auto r = tx.execute("UPDATE users SET password_hash = $2, "
                            "email_verified_at = COALESCE(email_verified_at, $3) WHERE id = $1",
                            p);
        !r) {
      return Unexpected(r.error());
    }
    const Value s[] = {*user_id};
    if (auto r = tx.execute("DELETE FROM sessions WHERE user_id = $1", s); !r) {
      return Unexpected(r.error());
    }
    return {};
  });
  if (!tx) return Unexpected(internal(tx.error()));
  sessions_changed(*user_id);
  return {};
}

AResult<Profile> AccountService::profile(const Principal& who) {
  auto user = find_user(who.user_id);
  if (!user) return Unexpected(user.error());
  if (!*user) return Unexpected(AccountError{Errc::kUnauthenticated, "sign in first", {}, 0});
  return (*user)->profile();
}

AResult<Profile> AccountService::update_profile(const Principal& who,
                                                const std::optional<std::string>& name,
                                                const std::optional<std::string>& language) {
  if (name && (name->size() > kMaxDisplayName ||
               std::any_of(name->begin(), name->end(),
                           [](unsigned char c) { return c < 0x20 || c == 0x7f; }))) {
    return Unexpected(invalid("display_name", "the name must be at most 100 bytes, one line"));
  }
  if (language && !valid_language(*language)) {
    return Unexpected(invalid("language", "language must be \"en\" or \"zh-CN\""));
  }
  if (name) {
    const Value p[] = {who.user_id, *name};
    if (auto r = db_.execute("UPDATE users SET display_name = $2 WHERE id = $1", p); !r) {
      return Unexpected(internal(r.error()));
    }
  }
  if (language) {
    const Value p[] = {who.user_id, *language};
    if (auto r = db_.execute("UPDATE users SET language = $2 WHERE id = $1", p); !r) {
      return Unexpected(internal(r.error()));
    }
    sessions_changed(who.user_id);  // a session carries its account's language
  }
  return profile(who);
}

AResult<void> AccountService::change_password(const Principal& who, const std::string& current,
                                              const std::string& next, bool end_other_sessions) {
  auto user = find_user(who.user_id);
  if (!user) return Unexpected(user.error());
  if (!*user) return Unexpected(AccountError{Errc::kUnauthenticated, "sign in first", {}, 0});
  if (!verify_password((*user)->password_hash, current)) {
    return Unexpected(AccountError{Errc::kInvalidCredentials, "the current password is wrong",
                                   "current_password", 0});
  }
  if (auto problem = check_password(next, (*user)->email)) {
    return Unexpected(AccountError{
        Errc::kWeakPassword, std::string(password_problem_message(*problem)), "new_password", 0});
  }
  const auto hash = hash_password(next, options_.hash_cost);
  if (!hash) return Unexpected(AccountError{Errc::kInternal, "out of memory", {}, 0});
  const Value p[] = {who.user_id, *hash};
  if (auto r = db_.execute("UPDATE users SET password_hash = $2 WHERE id = $1", p); !r) {
    return Unexpected(internal(r.error()));
  }
  if (end_other_sessions) {
    if (auto r = this->end_other_sessions(who); !r) return Unexpected(r.error());
  }
  return {};
}

AResult<std::vector<SessionInfo>> AccountService::sessions(const Principal& who) {
  const int64_t now = clock_.now_ms();
  const Value p[] = {who.user_id, now, now - options_.session_idle_ms};
  auto rows = db_.query(
      "SELECT id, client, created_at, last_seen_at, expires_at FROM sessions "
      "WHERE user_id = $1 AND expires_at > $2 AND last_seen_at > $3 ORDER BY created_at DESC",
      p);
  if (!rows) return Unexpected(internal(rows.error()));
  std::vector<SessionInfo> out;
  for (const auto& r : *rows) {
    out.push_back(SessionInfo{r.text(0), r.text(1), r.integer(2), r.integer(3), r.integer(4),
                              r.text(0) == who.session_id});
  }
  return out;
}

AResult<void> AccountService::end_session(const Principal& who, const std::string& session_id) {
  // Scoped to the caller: another person's session id is simply "not found".
  const Value p[] = {session_id, who.user_id};
  auto r = db_.execute("DELETE FROM sessions WHERE id = $1 AND user_id = $2", p);
  if (!r) return Unexpected(internal(r.error()));
  if (*r == 0) return Unexpected(AccountError{Errc::kNotFound, "no such session", "id", 0});
  sessions_changed(who.user_id);
  return {};
}

AResult<int64_t> AccountService::end_other_sessions(const Principal& who) {
  const Value p[] = {who.user_id, who.session_id};
  auto r = db_.execute("DELETE FROM sessions WHERE user_id = $1 AND id <> $2", p);
  if (!r) return Unexpected(internal(r.error()));
  sessions_changed(who.user_id);
  return *r;
}

AResult<TotpEnrolment> AccountService::totp_begin(const Principal& who) {
  auto user = find_user(who.user_id);
  if (!user) return Unexpected(user.error());
  if (!*user) return Unexpected(AccountError{Errc::kUnauthenticated, "sign in first", {}, 0});
  if ((*user)->totp_enabled) {
    return Unexpected(AccountError{Errc::kConflict, "two-step verification is already on", {}, 0});
  }
  const auto secret = random_bytes(20);  // 160 bits, as RFC 4226 recommends
  const auto encoded = base32_encode(secret);
  const Value p[] = {who.user_id, encoded};
  if (auto r = db_.execute("UPDATE users SET totp_secret = $2, totp_last_step = NULL WHERE id = $1 "
                           "AND totp_enabled_at IS NULL",
                           p);
      !r) {
    return Unexpected(internal(r.error()));
  }
  return TotpEnrolment{encoded, otpauth_uri("Nightjar", (*user)->email, secret)};
}

AResult<std::vector<std::string>> AccountService::totp_confirm(const Principal& who,
                                                               const std::string& code) {
  auto user = find_user(who.user_id);
  if (!user) return Unexpected(user.error());
  if (!*user) return Unexpected(AccountError{Errc::kUnauthenticated, "sign in first", {}, 0});
  if ((*user)->totp_enabled) {
    return Unexpected(AccountError{Errc::kConflict, "two-step verification is already on", {}, 0});
  }
  if ((*user)->totp_secret.empty()) {
    return Unexpected(AccountError{Errc::kConflict, "start enrolment first", {}, 0});
  }
  const auto normalized = normalize_code(code);
  if (normalized.size() != 6) {
    return Unexpected(AccountError{Errc::kInvalidTotp, "the code is not valid", "code", 0});
  }
  if (auto ok = check_second_factor(**user, normalized); !ok) return Unexpected(ok.error());
  std::vector<std::string> codes;
  auto tx = db_.transaction([&](store::Database& tx) -> store::StoreResult<void> {
    const Value p[] = {who.user_id, clock_.now_ms()};
    if (auto r = tx.execute("UPDATE users SET totp_enabled_at = $2 WHERE id = $1", p); !r) {
      return Unexpected(r.error());
    }
    const Value d[] = {who.user_id};
    if (auto r = tx.execute("DELETE FROM recovery_codes WHERE user_id = $1", d); !r) {
      return Unexpected(r.error());
    }
    for (int i = 0; i < kRecoveryCodes; ++i) {
      codes.push_back(recovery_code());
      const Value c[] = {who.user_id, sha256_hex(normalize_code(codes.back()))};
      if (auto r = tx.execute("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)", c);
          !r) {
        return Unexpected(r.error());
      }
    }
    return {};
  });
  if (!tx) return Unexpected(internal(tx.error()));
  return codes;
}

AResult<void> AccountService::totp_disable(const Principal& who, const std::string& password,
                                           const std::string& code) {
  auto user = find_user(who.user_id);
  if (!user) return Unexpected(user.error());
  if (!*user) return Unexpected(AccountError{Errc::kUnauthenticated, "sign in first", {}, 0});
  if (!(*user)->totp_enabled) {
    return Unexpected(AccountError{Errc::kConflict, "two-step verification is off", {}, 0});
  }
  if (!verify_password((*user)->password_hash, password)) {
    return Unexpected(
        AccountError{Errc::kInvalidCredentials, "the password is wrong", "password", 0});
  }
  if (auto ok = check_second_factor(**user, code); !ok) return Unexpected(ok.error());
  auto tx = db_.transaction([&](store::Database& tx) -> store::StoreResult<void> {
    const Value p[] = {who.user_id};
    if (auto r = tx.execute(
            "UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL "
            "WHERE id = $1",
            p);
        !r) {
      return Unexpected(r.error());
    }
    if (auto r = tx.execute("DELETE FROM recovery_codes WHERE user_id = $1", p); !r) {
      return Unexpected(r.error());
    }
    return {};
  });
  if (!tx) return Unexpected(internal(tx.error()));
  return {};
}

AResult<void> AccountService::cancel(const Principal& who, const std::string& password,
                                     const std::string& second_factor) {
  auto user = find_user(who.user_id);
  if (!user) return Unexpected(user.error());
  if (!*user || (*user)->status != "active") {
    return Unexpected(AccountError{Errc::kUnauthenticated, "sign in first", {}, 0});
  }
  if (!verify_password((*user)->password_hash, password)) {
    return Unexpected(
        AccountError{Errc::kInvalidCredentials, "the password is wrong", "password", 0});
  }
  if ((*user)->totp_enabled) {
    if (second_factor.empty()) {
      return Unexpected(AccountError{Errc::kTotpRequired,
                                     "enter the code from your authenticator app", "totp", 0});
    }
    if (auto ok = check_second_factor(**user, second_factor); !ok) return Unexpected(ok.error());
  }
  const int64_t now = clock_.now_ms();
  const auto job_id = random_id();
  auto tx = db_.transaction([&](store::Database& tx) -> store::StoreResult<void> {
    // At once: the account is cancelled and every session is gone (policy items 32–33).
    const Value u[] = {who.user_id, now};
    if (auto r =
            tx.execute("UPDATE users SET status = 'cancelled', cancelled_at = $2 WHERE id = $1", u);
        !r) {
      return Unexpected(r.error());
    }
    const Value s[] = {who.user_id};
    if (auto r = tx.execute("DELETE FROM sessions WHERE user_id = $1", s); !r) {
      return Unexpected(r.error());
    }
    const Value j[] = {job_id, who.user_id, now};
    if (auto r = tx.execute(
            "INSERT INTO jobs (id, kind, subject, state, progress, created_at, updated_at) "
            "VALUES ($1, 'account_anonymise', $2, 'queued', '', $3, $3)",
            j);
        !r) {
      return Unexpected(r.error());
    }
    return {};
  });
  if (!tx) return Unexpected(internal(tx.error()));
  spdlog::info("account.cancelled user={} job={}", who.user_id, job_id);
  sessions_changed(who.user_id);
  cancelled(who.user_id);
  return {};
}

void AccountService::cancelled(const std::string& user_id) {
  std::lock_guard lock(on_cancelled_mu_);
  if (on_cancelled_) on_cancelled_(user_id);
}

AResult<void> AccountService::anonymise(const Job& job) {
  auto user = find_user(job.subject);
  if (!user) return Unexpected(user.error());
  if (!*user) return {};
  const std::string old_email = (*user)->email;
  cancelled(job.subject);  // again, in case the server died before
  auto step = [&](const char* name, const std::string& sql) -> AResult<void> {
    const Value p[] = {job.subject};
    if (auto r = db_.execute(sql, p); !r) return Unexpected(internal(r.error()));
    const Value progress[] = {job.id, std::string(name), clock_.now_ms()};
    (void)db_.execute("UPDATE jobs SET progress = $2, updated_at = $3 WHERE id = $1", progress);
    return {};
  };
  if (auto r = step("sessions", "DELETE FROM sessions WHERE user_id = $1"); !r) return r;
  sessions_changed(job.subject);
  if (auto r = step("email_tokens", "DELETE FROM email_tokens WHERE user_id = $1"); !r) return r;
  if (auto r = step("recovery_codes", "DELETE FROM recovery_codes WHERE user_id = $1"); !r) {
    return r;
  }
  if (auto r = outbox_.forget_address(old_email); !r) return Unexpected(internal(r.error()));
  // Invitations to them (accepted or not) named them by address: the address goes.
  {
    const Value p[] = {job.subject, old_email};
    if (auto r = db_.execute("UPDATE device_shares SET email = 'cancelled-' || $1 || '@invalid' "
                             "WHERE user_id = $1 OR email = $2",
                             p);
        !r) {
      return Unexpected(internal(r.error()));
    }
  }
  // What remains is a row that says an account existed, with no way back to the person.
  if (auto r = step("profile",
                    "UPDATE users SET email = 'cancelled-' || id || '@invalid', "
                    "password_hash = '', display_name = '', totp_secret = NULL, "
                    "totp_enabled_at = NULL, totp_last_step = NULL WHERE id = $1");
      !r) {
    return r;
  }
  return {};
}

AResult<int> AccountService::run_jobs() {
  auto rows = db_.query(
      "SELECT id, kind, subject, state, progress, created_at, updated_at FROM jobs "
      "WHERE state IN ('queued', 'running') ORDER BY created_at LIMIT 50");
  if (!rows) return Unexpected(internal(rows.error()));
  int done = 0;
  for (const auto& r : *rows) {
    Job job{r.text(0), r.text(1), r.text(2), r.text(3), r.text(4), r.integer(5), r.integer(6)};
    const Value running[] = {job.id, clock_.now_ms()};
    (void)db_.execute("UPDATE jobs SET state = 'running', updated_at = $2 WHERE id = $1", running);
    AResult<void> result;
    if (job.kind == "account_anonymise") {
      result = anonymise(job);
    } else {
      result = Unexpected(AccountError{Errc::kInternal, "unknown job kind " + job.kind, {}, 0});
    }
    const Value fin[] = {job.id, std::string(result ? "done" : "failed"), clock_.now_ms(),
                         std::string(result ? "complete" : result.error().message)};
    (void)db_.execute("UPDATE jobs SET state = $2, updated_at = $3, progress = $4 WHERE id = $1",
                      fin);
    if (result) ++done;
    spdlog::info("job.finished id={} kind={} state={}", job.id, job.kind,
                 result ? "done" : "failed");
  }
  return done;
}

AResult<std::vector<Job>> AccountService::jobs() {
  auto rows = db_.query(
      "SELECT id, kind, subject, state, progress, created_at, updated_at FROM jobs "
      "ORDER BY created_at");
  if (!rows) return Unexpected(internal(rows.error()));
  std::vector<Job> out;
  for (const auto& r : *rows) {
    out.push_back(
        Job{r.text(0), r.text(1), r.text(2), r.text(3), r.text(4), r.integer(5), r.integer(6)});
  }
  return out;
}

}  // namespace nj::account
