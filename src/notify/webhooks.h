// Webhooks: a person's own HTTP endpoint (their home automation, a chat bot) told of each
// notification as JSON, signed so the receiver can tell it came from this server and was not
// replayed: `Nightjar-Signature: t=<unix seconds>,v1=<hex HMAC-SHA-256(secret, t "." body)>`.
// A delivery that fails is tried again with exponential backoff; one that never succeeds
// goes to the person's dead-letter list, which they see in the app and can send again.
// Deliveries on their way are kept in the database, so a restart resumes them.
// Secrets are not stored: each is derived from the server's key and the webhook's id.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "notify/delivery_queue.h"
#include "notify/engine.h"
#include "notify/push_channel.h"
#include "store/database.h"

namespace nj::notify {

struct Webhook {
  std::string id, user_id, url;
  int64_t created_at = 0;
  int last_status = 0;  // of the last attempt: an HTTP status, 0 for no answer
  int64_t last_at = 0;  // 0: never tried
};

// A delivery on its way: kept until it got through or was dead-lettered.
struct PendingDelivery {
  std::string id, webhook_id, user_id;  // id: the delivery's
  std::string payload;
  int attempts = 0;    // made so far
  int64_t due_ms = 0;  // the next one
};

struct WebhookFailure {
  std::string id, webhook_id, user_id, url;
  std::string payload;  // the body as it was sent
  int attempts = 0;
  int last_status = 0;
  int64_t failed_at = 0;
};

// Why a URL cannot be a webhook, or nullopt when it can: http(s), a host, at most 2048
// characters, no user name or password in it.
std::optional<std::string> webhook_url_error(std::string_view url);

// Whether the URL names a host that is certainly not public: "localhost", or a literal IPv4
// or IPv6 address in a private, loopback, link-local or other non-public range. (A name is
// checked on the address connected to, when a delivery goes.)
bool names_private_host(std::string_view url);

// "t=<t>,v1=<hex>" for a body sent at unix second t.
std::string webhook_signature(std::string_view secret, int64_t t, std::string_view body);

class WebhookStore {
 public:
  static constexpr size_t kMaxPerPerson = 5;
  static constexpr size_t kMaxFailuresPerPerson = 100;

  // key: the server's notify key (32 bytes, DIR/keys/notify.key).
  WebhookStore(store::Database& db, const Clock& clock, std::vector<uint8_t> key)
      : db_(db), clock_(clock), key_(std::move(key)) {}

  // Adds one; an error names what is wrong ("url" invalid, or too many).
  Result<Webhook, std::string> add(std::string_view user_id, std::string_view url);
  std::vector<Webhook> of(std::string_view user_id);
  std::optional<Webhook> get(std::string_view id);
  bool remove(std::string_view user_id, std::string_view id);  // with its failures, pending
  std::string secret(std::string_view webhook_id) const;       // "whsec_" and 43 characters
  void record_attempt(std::string_view id, int status);

  // Deliveries on their way (false: not kept, e.g. the webhook was deleted meanwhile).
  bool add_pending(const PendingDelivery& d);
  void set_pending(std::string_view delivery_id, int attempts, int64_t due_ms);
  void remove_pending(std::string_view delivery_id);
  std::vector<PendingDelivery> pending();  // soonest first

  void add_failure(const WebhookFailure& f);
  std::vector<WebhookFailure> failures(std::string_view user_id);
  // Removes one failure and returns it (to be sent again).
  std::optional<WebhookFailure> take_failure(std::string_view user_id, std::string_view id);
  void clear_failures(std::string_view user_id);
  void forget_user(std::string_view user_id);

 private:
  store::Database& db_;
  const Clock& clock_;
  std::vector<uint8_t> key_;
};

struct WebhookOptions {
  int64_t first_retry_ms = 2000;  // then doubled: 2 s, 4 s, … 256 s
  size_t attempts = 8;
  size_t max_queued = 1000;  // beyond, a delivery goes straight to the dead-letter list
};

class WebhookChannel final : public Channel {
 public:
  struct Stats {
    uint64_t sent = 0, retried = 0, dead = 0;
  };
  WebhookChannel(WebhookStore& store, HttpPoster& poster, const Clock& clock,
                 WebhookOptions options)
      : store_(store), poster_(poster), clock_(clock), options_(options) {}

  std::string_view purpose() const override { return privacy::kNotifyWebhook; }
  void deliver(const Notification& n) override;
  // Sends a dead-lettered delivery again (its webhook must still exist).
  bool redeliver(const WebhookFailure& f);
  // At start: the deliveries a stop interrupted go on, each at its time.
  size_t resume();
  Stats stats() const;
  void drain() { queue_.drain(); }

  // {"type":"notification","delivery","notification":{…}} as a receiver gets it.
  static std::string payload(const Notification& n, std::string_view delivery_id);

 private:
  void enqueue(const Webhook& w, std::string delivery_id, std::string body, int attempts = 0,
               int64_t due_ms = 0, bool kept = false);
  std::optional<std::chrono::milliseconds> attempt(const std::string& webhook_id,
                                                   const std::string& delivery_id,
                                                   const std::string& body, size_t attempt);

  WebhookStore& store_;
  HttpPoster& poster_;
  const Clock& clock_;
  WebhookOptions options_;
  mutable std::mutex mu_;
  Stats stats_;
  DeliveryQueue queue_{2};  // last: its threads stop before the rest goes
};

}  // namespace nj::notify
