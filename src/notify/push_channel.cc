#include "notify/push_channel.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/random.h"
#include "common/time.h"
#include "notify/text.h"

namespace nj::notify {
namespace {

using store::Value;

bool host_matches(std::string_view host, std::string_view pattern) {
  if (pattern.starts_with("*.")) {
    const std::string_view suffix = pattern.substr(1);  // ".example.com"
    return host.size() > suffix.size() && host.ends_with(suffix);
  }
  return host == pattern;
}

size_t ignore_body(char*, size_t size, size_t n, void*) { return size * n; }

curl_socket_t open_public_socket(void*, curlsocktype purpose, curl_sockaddr* address) {
  if (purpose != CURLSOCKTYPE_IPCXN || !public_address(&address->addr)) {
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

class CurlPoster final : public HttpPoster {
 public:
  explicit CurlPoster(PosterOptions options) : options_(options) {}
  ~CurlPoster() override {
    for (CURL* c : idle_) curl_easy_cleanup(c);
  }

  std::optional<int> post(const std::string& url,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          const std::string& body) override {
    CURL* curl = take();
    if (!curl) return std::nullopt;
    curl_slist* list = nullptr;
    for (const auto& [name, value] : headers) {
      list = curl_slist_append(list, (name + ": " + value).c_str());
    }
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, options_.timeout_ms);
    if (options_.public_only) {
      curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_public_socket);
      curl_easy_setopt(curl, CURLOPT_PROXY, "");  // the check is on the peer, not a proxy
    }
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, ignore_body);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    const CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(list);
    give_back(curl);
    if (rc != CURLE_OK) return std::nullopt;
    return static_cast<int>(status);
  }

 private:
  // Handles are kept between requests, each with its connections: the next push to the
  // same push service (or webhook host) reuses a connection instead of a new TCP and TLS
  // handshake, which is most of a request's time over the internet.
  CURL* take() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        CURL* c = idle_.back();
        idle_.pop_back();
        curl_easy_reset(c);  // the options go; connections, DNS and TLS sessions stay
        return c;
      }
    }
    return curl_easy_init();
  }
  void give_back(CURL* c) {
    std::lock_guard lock(mu_);
    if (idle_.size() < kMaxIdle) {
      idle_.push_back(c);
      return;
    }
    curl_easy_cleanup(c);
  }
  static constexpr size_t kMaxIdle = 32;
  PosterOptions options_;
  std::mutex mu_;
  std::vector<CURL*> idle_;
};

}  // namespace

std::unique_ptr<HttpPoster> curl_poster(PosterOptions options) {
  // Once, before any sender thread makes a handle (libcurl's own first-use init is not
  // safe to race on every build).
  static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  (void)initialised;
  return std::make_unique<CurlPoster>(options);
}

bool public_address(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    const uint32_t a = ntohl(in->sin_addr.s_addr);
    const auto in_net = [a](uint32_t net, int bits) {
      return (a >> (32 - bits)) == (net >> (32 - bits));
    };
    return !(in_net(0x00000000, 8) ||   // 0.0.0.0/8: "this network"
             in_net(0x0A000000, 8) ||   // 10/8
             in_net(0x64400000, 10) ||  // 100.64/10: carrier-grade NAT
             in_net(0x7F000000, 8) ||   // 127/8: loopback
             in_net(0xA9FE0000, 16) ||  // 169.254/16: link-local, cloud metadata
             in_net(0xAC100000, 12) ||  // 172.16/12
             in_net(0xC0000000, 24) ||  // 192.0.0/24: protocol assignments
             in_net(0xC0A80000, 16) ||  // 192.168/16
             in_net(0xC6120000, 15) ||  // 198.18/15: benchmarking
             in_net(0xE0000000, 3));    // 224/3: multicast and reserved, broadcast
  }
  if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    const uint8_t* b = in6->sin6_addr.s6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) || IN6_IS_ADDR_V4COMPAT(&in6->sin6_addr)) {
      sockaddr_in v4{};
      v4.sin_family = AF_INET;
      std::memcpy(&v4.sin_addr.s_addr, b + 12, 4);
      return public_address(reinterpret_cast<const sockaddr*>(&v4));
    }
    if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr) || IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) {
      return false;
    }
    if ((b[0] & 0xFE) == 0xFC) return false;                  // fc00::/7: unique local
    if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return false;  // fe80::/10: link-local
    if (b[0] == 0xFF) return false;                           // multicast
    if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B) return false;  // NAT64
    return true;
  }
  return false;
}

std::optional<std::string> push_origin(std::string_view endpoint, const PushTargets& targets) {
  std::string_view rest = endpoint;
  std::string scheme;
  if (rest.starts_with("https://")) {
    scheme = "https";
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://") && targets.allow_http) {
    scheme = "http";
    rest.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  if (endpoint.size() > 1024) return std::nullopt;
  const size_t end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, end);
  // No user info ("a@b" sends the request to b), nothing but a host and a port.
  if (authority.empty() || authority.find('@') != std::string_view::npos ||
      authority.find_first_of(" \\") != std::string_view::npos) {
    return std::nullopt;
  }
  const size_t colon = authority.rfind(':');
  const std::string_view host =
      colon == std::string_view::npos ? authority : authority.substr(0, colon);
  if (colon != std::string_view::npos) {
    const std::string_view port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string_view::npos ||
        std::stoi(std::string(port)) > 65535 || std::stoi(std::string(port)) == 0) {
      return std::nullopt;
    }
  }
  std::string lower(host);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& pattern : targets.hosts) {
    if (host_matches(lower, pattern)) return scheme + "://" + std::string(authority);
  }
  return std::nullopt;
}

std::optional<std::string> PushSubscriptions::add(std::string_view user_id,
                                                  std::string_view endpoint,
                                                  std::string_view p256dh, std::string_view auth) {
  const std::string id = random_hex_id();
  const Value p[] = {id,
                     std::string(user_id),
                     std::string(endpoint),
                     webpush::base64url(p256dh),
                     webpush::base64url(auth),
                     clock_.now_ms()};
  // One browser, one subscription: an endpoint seen before now belongs to whoever sent it.
  auto r = db_.execute(
      "INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, created_at) "
      "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (endpoint) DO UPDATE SET id = excluded.id, "
      "user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth, "
      "created_at = excluded.created_at",
      p);
  if (!r) return std::nullopt;
  return id;
}

std::vector<PushSubscription> PushSubscriptions::of(std::string_view user_id) {
  const Value p[] = {std::string(user_id)};
  auto rows = db_.query(
      "SELECT id, user_id, endpoint, p256dh, auth, created_at FROM push_subscriptions "
      "WHERE user_id = $1 ORDER BY created_at",
      p);
  std::vector<PushSubscription> out;
  if (!rows) return out;
  for (const auto& r : *rows) {
    auto p256dh = webpush::from_base64url(r.text(3));
    auto auth = webpush::from_base64url(r.text(4));
    if (!p256dh || !auth) continue;
    out.push_back({r.text(0), r.text(1), r.text(2), *p256dh, *auth, r.integer(5)});
  }
  return out;
}

bool PushSubscriptions::remove(std::string_view user_id, std::string_view id) {
  const Value p[] = {std::string(user_id), std::string(id)};
  auto r = db_.execute("DELETE FROM push_subscriptions WHERE user_id = $1 AND id = $2", p);
  return r && *r > 0;
}

void PushSubscriptions::remove_endpoint(std::string_view endpoint) {
  const Value p[] = {std::string(endpoint)};
  (void)db_.execute("DELETE FROM push_subscriptions WHERE endpoint = $1", p);
}

void PushSubscriptions::forget_user(std::string_view user_id) {
  const Value p[] = {std::string(user_id)};
  (void)db_.execute("DELETE FROM push_subscriptions WHERE user_id = $1", p);
}

PushChannel::PushChannel(PushSubscriptions& subscriptions, const webpush::VapidKey& vapid,
                         HttpPoster& poster, const Clock& clock, PushOptions options)
    : subscriptions_(subscriptions),
      vapid_(vapid),
      poster_(poster),
      clock_(clock),
      options_(std::move(options)),
      queue_(options_.senders) {}

std::string PushChannel::payload(const Notification& n) {
  auto out = notification_json(n);  // never the picture: the service worker fetches it
  if (!n.snooze_token.empty()) {
    out["snooze"] = {
        {"token", n.snooze_token}, {"label", snooze_label(n)}, {"minutes", kActionSnoozeMinutes}};
  }
  return out.dump();
}

void PushChannel::deliver(const Notification& n) {
  auto subscriptions = subscriptions_.of(n.user_id);
  if (subscriptions.empty()) return;
  const auto text = std::make_shared<const std::string>(payload(n));
  for (auto& s : subscriptions) {
    queue_.post([this, s = std::move(s), text, made_us = n.made_us](size_t attempt) {
      return send(s, *text, made_us, attempt);
    });
  }
}

PushChannel::Stats PushChannel::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::optional<std::chrono::milliseconds> PushChannel::send(const PushSubscription& subscription,
                                                           const std::string& text, int64_t made_us,
                                                           size_t attempt) {
  const auto origin = push_origin(subscription.endpoint, options_.targets);
  auto body = webpush::encrypt(text, subscription.p256dh, subscription.auth);
  const int64_t exp = clock_.now_ms() / 1000 + 12 * 3600;
  auto authorization =
      origin ? vapid_.authorization(*origin, options_.subject, exp)
             : Result<std::string, std::string>(Unexpected(std::string("endpoint not allowed")));
  if (!origin || !body || !authorization) {
    // Nothing to send this subscription that could ever work: it goes.
    spdlog::warn("push.dropped subscription={} reason=\"{}\"", subscription.id,
                 !origin ? "endpoint not allowed"
                 : !body ? body.error()
                         : authorization.error());
    subscriptions_.remove_endpoint(subscription.endpoint);
    std::lock_guard lock(mu_);
    ++stats_.failed;
    return std::nullopt;
  }
  const auto status = poster_.post(subscription.endpoint,
                                   {{"Content-Type", "application/octet-stream"},
                                    {"Content-Encoding", "aes128gcm"},
                                    {"TTL", std::to_string(options_.ttl_s)},
                                    {"Urgency", "high"},
                                    {"Authorization", *authorization}},
                                   *body);
  if (observer_) observer_(status.value_or(0), steady_now_us() - made_us);
  const int s = status.value_or(0);
  std::lock_guard lock(mu_);
  if (s >= 200 && s < 300) {
    ++stats_.sent;
    return std::nullopt;
  }
  if (s == 404 || s == 410) {  // the browser unsubscribed, or the subscription expired
    ++stats_.expired;
    subscriptions_.remove_endpoint(subscription.endpoint);
    spdlog::info("push.subscription_ended subscription={} status={}", subscription.id, s);
    return std::nullopt;
  }
  if ((s == 0 || s == 429 || s >= 500) && attempt < options_.retry_ms.size()) {
    ++stats_.retried;
    return std::chrono::milliseconds(options_.retry_ms[attempt]);
  }
  ++stats_.failed;
  spdlog::warn("push.failed subscription={} status={}", subscription.id, s);
  return std::nullopt;
}

}  // namespace nj::notify
