// Accounts: registration with policy acceptance, e-mail verification, sign-in with
// throttling and TOTP, sessions, profile, password changes and resets, and cancellation
// that takes effect at once (policy items 32–33) followed by an anonymisation job.
// Transport-free: the API layer turns these results into HTTP.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "account/password.h"
#include "account/throttle.h"
#include "common/clock.h"
#include "common/lru_cache.h"
#include "common/result.h"
#include "mail/mail.h"
#include "store/database.h"

namespace nj::account {

enum class Errc {
  kInvalidInput,        // a field is missing, malformed or too large (field names it)
  kWeakPassword,        // the password breaks a rule (message says which)
  kPolicyVersion,       // the accepted policy version is not the current one
  kInvalidCredentials,  // wrong e-mail or password: never says which
  kEmailNotVerified,
  kTotpRequired,  // password right; a TOTP or recovery code is needed
  kInvalidTotp,
  kLockedOut,        // too many failures; retry_after_ms says when to try again
  kInvalidToken,     // unknown, used or expired e-mail token: never says which
  kUnauthenticated,  // no valid session
  kNotFound,         // not found, or not the caller's (never reveals which)
  kConflict,         // e.g. TOTP already enabled
  kUnavailable,      // the database cannot be reached now: retry_after_ms says when to retry
  kInternal,
};

struct AccountError {
  Errc code;
  std::string message;
  std::string field;
  int64_t retry_after_ms = 0;
};
template <class T>
using AResult = Result<T, AccountError>;

struct AccountOptions {
  std::string public_url = "http://127.0.0.1:8080";  // links in e-mails
  std::string policy_version;
  int64_t verify_token_ttl_ms = 24LL * 3600 * 1000;
  int64_t reset_token_ttl_ms = 3600LL * 1000;
  int64_t session_idle_ms = 14LL * 24 * 3600 * 1000;
  int64_t session_absolute_ms = 30LL * 24 * 3600 * 1000;
  HashCost hash_cost;
  ThrottleOptions throttle;
  // Sessions resolved lately are kept this long (0: each request reads the database). For a
  // database across the network (PostgreSQL): an end of sessions is told to every node at
  // once (set_on_sessions_changed, over the change feed), and this bounds how long a node
  // that missed it could go on (the feed's resync clears everything too).
  int64_t session_cache_ms = 0;
};

// Who is calling: resolved from a session token on every request.
struct Principal {
  std::string user_id;
  std::string session_id;
  std::string csrf_hash;
  std::string language;
};

struct Profile {
  std::string id, email, display_name, language;
  int64_t created_at = 0;
  bool email_verified = false;
  bool totp_enabled = false;
};

struct NewSession {
  std::string token;       // give to the client once; only its hash is stored
  std::string csrf_token;  // for cookie-authenticated writes
  std::string session_id;
  int64_t expires_at = 0;
  Profile profile;
};

struct SessionInfo {
  std::string id, client;
  int64_t created_at = 0, last_seen_at = 0, expires_at = 0;
  bool current = false;
};

struct TotpEnrolment {
  std::string secret;  // base32
  std::string otpauth_uri;
};

struct Job {
  std::string id, kind, subject, state, progress;
  int64_t created_at = 0, updated_at = 0;
};

bool valid_language(std::string_view language);
// Lower-cases and checks an address: one '@', no spaces or controls, ≤ 254 bytes.
std::optional<std::string> normalize_email(std::string_view email);

class AccountService {
 public:
  AccountService(store::Database& db, mail::Outbox& outbox, const Clock& clock,
                 AccountOptions options, std::function<void()> mail_queued = {});

  const AccountOptions& options() const { return options_; }

  // Always succeeds the same way for a new or an existing address (an existing one gets a
  // notice by e-mail instead), so registration does not reveal who has an account.
  // region: the data region chosen (privacy::Regions, checked by the caller); empty: the
  // default one.
  AResult<void> register_account(const std::string& email, const std::string& password,
                                 const std::string& language, const std::string& policy_version,
                                 const std::string& region = {});
  AResult<void> verify_email(const std::string& token);
  // For the operator and the demo: an account whose address counts as verified, accepting
  // the current policy. Returns the new id (kConflict if the address is taken).
  AResult<std::string> create_verified_account(const std::string& email,
                                               const std::string& password,
                                               const std::string& language);
  AResult<void> resend_verification(const std::string& email);

  AResult<NewSession> login(const std::string& email, const std::string& password,
                            const std::string& second_factor, const std::string& client,
                            const std::string& address);
  AResult<Principal> authenticate(const std::string& token);
  // Whether a session is still open (not signed out, expired, idle too long, or its account
  // gone): for connections that outlive the request that opened them.
  bool session_open(const std::string& session_id);
  AResult<void> logout(const Principal& who);

  AResult<void> request_password_reset(const std::string& email);
  AResult<void> reset_password(const std::string& token, const std::string& new_password);

  AResult<Profile> profile(const Principal& who);
  AResult<Profile> update_profile(const Principal& who, const std::optional<std::string>& name,
                                  const std::optional<std::string>& language);
  AResult<void> change_password(const Principal& who, const std::string& current,
                                const std::string& next, bool end_other_sessions);

  AResult<std::vector<SessionInfo>> sessions(const Principal& who);
  AResult<void> end_session(const Principal& who, const std::string& session_id);
  AResult<int64_t> end_other_sessions(const Principal& who);

  AResult<TotpEnrolment> totp_begin(const Principal& who);
  // Confirms enrolment with a code; returns ten single-use recovery codes.
  AResult<std::vector<std::string>> totp_confirm(const Principal& who, const std::string& code);
  AResult<void> totp_disable(const Principal& who, const std::string& password,
                             const std::string& code);

  // Re-authenticates (password, and a TOTP or recovery code when 2FA is on), then at once
  // ends every session and refuses sign-in; queues the anonymisation job.
  AResult<void> cancel(const Principal& who, const std::string& password,
                       const std::string& second_factor);

  // What else ends with an account (its cameras unbound, its shares ended), set by the
  // composition root. Called at once after a cancellation, and again by the anonymisation
  // job (so a crash in between still gets it done); it must be idempotent.
  void set_on_cancelled(std::function<void(const std::string& user_id)> f) {
    std::lock_guard lock(on_cancelled_mu_);  // waits for a call under way
    on_cancelled_ = std::move(f);
  }

  // Sessions of an account ended or changed (sign-out, a password reset, ended elsewhere, a
  // language changed, cancelled): called after this node forgot what it kept of them, so
  // the composition root tells the other nodes (which call forget_sessions).
  void set_on_sessions_changed(std::function<void(const std::string& user_id)> f) {
    on_sessions_changed_ = std::move(f);
  }
  // What this node keeps of the account's sessions goes ("" : of every account).
  void forget_sessions(const std::string& user_id);

  // Runs queued jobs; returns how many finished.
  AResult<int> run_jobs();
  AResult<std::vector<Job>> jobs();

 private:
  struct UserRow;
  // column is "id" or "email" (never input).
  AResult<std::optional<UserRow>> find_user_where(const char* column, const std::string& value);
  AResult<std::optional<UserRow>> find_user_by_email(const std::string& email);
  AResult<std::optional<UserRow>> find_user(const std::string& id);
  AResult<std::string> issue_email_token(const std::string& user_id, const std::string& purpose,
                                         int64_t ttl_ms);
  AResult<std::string> consume_email_token(const std::string& token, const std::string& purpose);
  AResult<void> check_second_factor(const UserRow& user, const std::string& code);
  void send(const std::string& to, const std::string& language, const std::string& kind,
            const std::string& link);
  AResult<void> anonymise(const Job& job);

  store::Database& db_;
  mail::Outbox& outbox_;
  const Clock& clock_;
  AccountOptions options_;
  std::function<void()> mail_queued_;
  void cancelled(const std::string& user_id);
  std::mutex on_cancelled_mu_;  // held while on_cancelled_ runs (cancel and the job thread)
  std::function<void(const std::string&)> on_cancelled_;
  void sessions_changed(const std::string& user_id);
  std::function<void(const std::string&)> on_sessions_changed_;
  struct Kept {
    Principal who;
    int64_t expires_at = 0, last_seen_at = 0, kept_at = 0;
  };
  std::mutex kept_mu_;
  LruCache<std::string, Kept> kept_;  // by the token's hash
  uint64_t forgets_ = 0;              // how many forgets so far (under kept_mu_)
  LoginThrottle throttle_;
  std::string dummy_hash_;  // verified against when the e-mail is unknown: same cost
};

}  // namespace nj::account
