// The Web Push channel: a person's browsers are told even when the app is closed, through the
// push service each browser chose (RFC 8030), with the message encrypted for that browser
// alone (RFC 8291) and signed with the server's VAPID key (RFC 8292). The payload carries the
// event id and a short text, never the picture: the service worker fetches that itself, with
// the person's session. Sending happens on the channel's own threads; a push service's 404 or
// 410 ends the subscription, a 429 or 5xx is tried again (1 s, 5 s, 30 s).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "notify/delivery_queue.h"
#include "notify/engine.h"
#include "notify/web_push.h"
#include "store/database.h"

namespace nj::notify {

struct PushSubscription {
  std::string id, user_id, endpoint;
  std::string p256dh, auth;  // raw bytes
  int64_t created_at = 0;
};

class PushSubscriptions {
 public:
  PushSubscriptions(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  // Adds or moves (by endpoint) a browser's subscription to this person; returns its id.
  std::optional<std::string> add(std::string_view user_id, std::string_view endpoint,
                                 std::string_view p256dh, std::string_view auth);
  std::vector<PushSubscription> of(std::string_view user_id);
  bool remove(std::string_view user_id, std::string_view id);
  void remove_endpoint(std::string_view endpoint);
  void forget_user(std::string_view user_id);

 private:
  store::Database& db_;
  const Clock& clock_;
};

// Which push services the server will post to: a browser's subscription names a URL, and a
// server that posted anywhere it was told would be a way into the operator's network.
struct PushTargets {
  // Host names (exact, or "*.example.com" for its subdomains).
  std::vector<std::string> hosts = {"fcm.googleapis.com", "updates.push.services.mozilla.com",
                                    "*.push.apple.com", "*.notify.windows.com"};
  bool allow_http = false;  // tests: a push service on loopback
};
// The endpoint's origin ("https://host[:port]") if it may be posted to.
std::optional<std::string> push_origin(std::string_view endpoint, const PushTargets& targets);

// One HTTP POST; the status, or nullopt when there was no answer. Blocking.
class HttpPoster {
 public:
  virtual ~HttpPoster() = default;
  virtual std::optional<int> post(const std::string& url,
                                  const std::vector<std::pair<std::string, std::string>>& headers,
                                  const std::string& body) = 0;
};
struct PosterOptions {
  long timeout_ms = 10'000;
  // Connect only to public addresses (checked on the address actually connected to, so a
  // name that resolves to the server's own network, or changes its answer, is refused):
  // no loopback, private, link-local (cloud metadata), carrier-grade NAT, multicast or
  // unspecified addresses, IPv4 or IPv6.
  bool public_only = false;
};
// libcurl; no redirects followed.
std::unique_ptr<HttpPoster> curl_poster(PosterOptions options = {});
// Whether an address is one that public_only allows.
bool public_address(const sockaddr* address);

struct PushOptions {
  std::string subject;  // VAPID "sub": mailto: or the server's URL
  int ttl_s = 3600;     // how long a push service may hold a message for an offline browser
  PushTargets targets;
  std::vector<int> retry_ms = {1000, 5000, 30000};
  // Requests in flight at once: a push service is an internet round trip away, and each
  // sender waits for its answer (16 × 1 / 60 ms ≈ 260 pushes a second).
  size_t senders = 16;
};

class PushChannel final : public Channel {
 public:
  struct Stats {
    uint64_t sent = 0, failed = 0, expired = 0, retried = 0;
  };
  // Told of each delivery: the push service's status (0: no answer) and µs from deciding.
  using Observer = std::function<void(int status, int64_t us)>;

  PushChannel(PushSubscriptions& subscriptions, const webpush::VapidKey& vapid, HttpPoster& poster,
              const Clock& clock, PushOptions options);

  std::string_view purpose() const override { return privacy::kNotifyPush; }
  void deliver(const Notification& n) override;
  void set_observer(Observer o) { observer_ = std::move(o); }
  Stats stats() const;
  // Waits until nothing is queued or being sent (tests).
  void drain() { queue_.drain(); }

  // What the service worker receives (before encryption).
  static std::string payload(const Notification& n);

 private:
  // One attempt; a delay when it should be tried again.
  std::optional<std::chrono::milliseconds> send(const PushSubscription& subscription,
                                                const std::string& text, int64_t made_us,
                                                size_t attempt);

  PushSubscriptions& subscriptions_;
  const webpush::VapidKey& vapid_;
  HttpPoster& poster_;
  const Clock& clock_;
  PushOptions options_;
  Observer observer_;
  mutable std::mutex mu_;
  Stats stats_;
  DeliveryQueue queue_;  // last: its threads stop before the rest goes
};

}  // namespace nj::notify
