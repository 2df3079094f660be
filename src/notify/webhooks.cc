#include "notify/webhooks.h"

#include <arpa/inet.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include "common/random.h"
#include "notify/secrets.h"
#include "notify/text.h"

namespace nj::notify {
namespace {

using store::Value;

Webhook webhook_of(const store::Row& r) {
  return {r.text(0),   r.text(1), r.text(2), r.integer(3), static_cast<int>(r.integer(4)),
          r.integer(5)};
}

WebhookFailure failure_of(const store::Row& r) {
  return {r.text(0),
          r.text(1),
          r.text(2),
          r.text(3),
          r.text(4),
          static_cast<int>(r.integer(5)),
          static_cast<int>(r.integer(6)),
          r.integer(7)};
}

constexpr std::string_view kFailureColumns =
    "SELECT f.id, f.webhook_id, f.user_id, w.url, f.payload, f.attempts, f.last_status, "
    "f.failed_at FROM webhook_failures f JOIN webhooks w ON w.id = f.webhook_id ";

}  // namespace

std::optional<std::string> webhook_url_error(std::string_view url) {
  if (url.size() > 2048) return "at most 2048 characters";
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return "an http:// or https:// address";
  }
  for (unsigned char c : url) {
    if (c <= 0x20 || c >= 0x7F) return "no spaces or control characters (percent-encode them)";
  }
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) return "no user name or password in it";
  if (authority.empty() || authority.starts_with(':')) return "a host name";
  if (url.find('#') != std::string_view::npos) return "no #fragment";
  return std::nullopt;
}

bool names_private_host(std::string_view url) {
  std::string_view rest =
      url.substr(url.find("://") == std::string_view::npos ? 0 : url.find("://") + 3);
  std::string_view host = rest.substr(0, rest.find_first_of("/?#"));
  if (host.starts_with('[')) {  // [IPv6]:port
    host = host.substr(1, host.find(']') == std::string_view::npos ? 0 : host.find(']') - 1);
  } else if (const size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  std::string name(host);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!name.empty() && name.back() == '.') name.pop_back();
  if (name == "localhost" || name.ends_with(".localhost")) return true;
  sockaddr_in v4{};
  if (inet_pton(AF_INET, name.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    return !public_address(reinterpret_cast<const sockaddr*>(&v4));
  }
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET6, name.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    return !public_address(reinterpret_cast<const sockaddr*>(&v6));
  }
  return false;
}

std::string webhook_signature(std::string_view secret, int64_t t, std::string_view body) {
  const std::string stamp = std::to_string(t);
  std::string message;
  message.reserve(stamp.size() + 1 + body.size());
  message.append(stamp).append(".").append(body);
  return "t=" + stamp + ",v1=" + to_hex(hmac_sha256(secret, message));
}

Result<Webhook, std::string> WebhookStore::add(std::string_view user_id, std::string_view url) {
  if (auto error = webhook_url_error(url)) return Unexpected("url: " + *error);
  if (of(user_id).size() >= kMaxPerPerson) {
    return Unexpected("at most " + std::to_string(kMaxPerPerson) + " webhooks");
  }
  Webhook w{random_hex_id(), std::string(user_id), std::string(url), clock_.now_ms(), 0, 0};
  const Value p[] = {w.id, w.user_id, w.url, w.created_at};
  if (!db_.execute("INSERT INTO webhooks (id, user_id, url, created_at, last_status, last_at) "
                   "VALUES ($1, $2, $3, $4, 0, 0)",
                   p)) {
    return Unexpected(std::string("the webhook was not kept"));
  }
  return w;
}

std::vector<Webhook> WebhookStore::of(std::string_view user_id) {
  const Value p[] = {std::string(user_id)};
  auto rows = db_.query(
      "SELECT id, user_id, url, created_at, last_status, last_at FROM webhooks "
      "WHERE user_id = $1 ORDER BY created_at, id",
      p);
  std::vector<Webhook> out;
  if (rows) {
    for (const auto& r : *rows) out.push_back(webhook_of(r));
  }
  return out;
}

std::optional<Webhook> WebhookStore::get(std::string_view id) {
  const Value p[] = {std::string(id)};
  auto rows = db_.query(
      "SELECT id, user_id, url, created_at, last_status, last_at FROM webhooks WHERE id = $1", p);
  if (!rows || rows->empty()) return std::nullopt;
  return webhook_of(rows->front());
}

bool WebhookStore::remove(std::string_view user_id, std::string_view id) {
  const Value p[] = {std::string(user_id), std::string(id)};
  bool removed = false;
  auto done = db_.transaction([&](store::Database& tx) -> store::StoreResult<void> {
    auto f = tx.execute("DELETE FROM webhook_failures WHERE user_id = $1 AND webhook_id = $2", p);
    if (!f) return Unexpected(f.error());
    auto q = tx.execute("DELETE FROM webhook_pending WHERE user_id = $1 AND webhook_id = $2", p);
    if (!q) return Unexpected(q.error());
    auto w = tx.execute("DELETE FROM webhooks WHERE user_id = $1 AND id = $2", p);
    if (!w) return Unexpected(w.error());
    removed = *w > 0;
    return {};
  });
  return done && removed;
}

std::string WebhookStore::secret(std::string_view webhook_id) const {
  return "whsec_" + derive_secret(key_, "webhook:" + std::string(webhook_id));
}

void WebhookStore::record_attempt(std::string_view id, int status) {
  const Value p[] = {std::string(id), int64_t{status}, clock_.now_ms()};
  (void)db_.execute("UPDATE webhooks SET last_status = $2, last_at = $3 WHERE id = $1", p);
}

bool WebhookStore::add_pending(const PendingDelivery& d) {
  const Value p[] = {d.id, d.webhook_id, d.user_id, d.payload, int64_t{d.attempts}, d.due_ms};
  auto r = db_.execute(
      "INSERT INTO webhook_pending (id, webhook_id, user_id, payload, attempts, due_ms) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      p);
  return r && *r > 0;
}

void WebhookStore::set_pending(std::string_view delivery_id, int attempts, int64_t due_ms) {
  const Value p[] = {std::string(delivery_id), int64_t{attempts}, due_ms};
  (void)db_.execute("UPDATE webhook_pending SET attempts = $2, due_ms = $3 WHERE id = $1", p);
}

void WebhookStore::remove_pending(std::string_view delivery_id) {
  const Value p[] = {std::string(delivery_id)};
  (void)db_.execute("DELETE FROM webhook_pending WHERE id = $1", p);
}

std::vector<PendingDelivery> WebhookStore::pending() {
  auto rows = db_.query(
      "SELECT id, webhook_id, user_id, payload, attempts, due_ms FROM webhook_pending "
      "ORDER BY due_ms, id",
      {});
  std::vector<PendingDelivery> out;
  if (!rows) return out;
  for (const auto& r : *rows) {
    out.push_back(
        {r.text(0), r.text(1), r.text(2), r.text(3), static_cast<int>(r.integer(4)), r.integer(5)});
  }
  return out;
}

void WebhookStore::add_failure(const WebhookFailure& f) {
  const Value p[] = {f.id,       f.webhook_id,        f.user_id,
                     f.payload,  int64_t{f.attempts}, int64_t{f.last_status},
                     f.failed_at};
  (void)db_.execute(
      "INSERT INTO webhook_failures (id, webhook_id, user_id, payload, attempts, last_status, "
      "failed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      p);
  // The list is bounded: the oldest go first.
  const Value q[] = {f.user_id, static_cast<int64_t>(kMaxFailuresPerPerson)};
  (void)db_.execute(
      "DELETE FROM webhook_failures WHERE user_id = $1 AND id NOT IN (SELECT id FROM "
      "webhook_failures WHERE user_id = $1 ORDER BY failed_at DESC, id DESC LIMIT $2)",
      q);
}

std::vector<WebhookFailure> WebhookStore::failures(std::string_view user_id) {
  const Value p[] = {std::string(user_id)};
  auto rows = db_.query(
      std::string(kFailureColumns) + "WHERE f.user_id = $1 ORDER BY f.failed_at DESC, f.id DESC",
      p);
  std::vector<WebhookFailure> out;
  if (rows) {
    for (const auto& r : *rows) out.push_back(failure_of(r));
  }
  return out;
}

std::optional<WebhookFailure> WebhookStore::take_failure(std::string_view user_id,
                                                         std::string_view id) {
  const Value p[] = {std::string(user_id), std::string(id)};
  auto rows = db_.query(std::string(kFailureColumns) + "WHERE f.user_id = $1 AND f.id = $2", p);
  if (!rows || rows->empty()) return std::nullopt;
  auto gone = db_.execute("DELETE FROM webhook_failures WHERE user_id = $1 AND id = $2", p);
  if (!gone || *gone == 0) return std::nullopt;  // taken by another request meanwhile
  return failure_of(rows->front());
}

void WebhookStore::clear_failures(std::string_view user_id) {
  const Value p[] = {std::string(user_id)};
  (void)db_.execute("DELETE FROM webhook_failures WHERE user_id = $1", p);
}

void WebhookStore::forget_user(std::string_view user_id) {
  const Value p[] = {std::string(user_id)};
  (void)db_.execute("DELETE FROM webhook_failures WHERE user_id = $1", p);
  (void)db_.execute("DELETE FROM webhook_pending WHERE user_id = $1", p);
  (void)db_.execute("DELETE FROM webhooks WHERE user_id = $1", p);
}

std::string WebhookChannel::payload(const Notification& n, std::string_view delivery_id) {
  return nlohmann::json{{"type", "notification"},
                        {"delivery", std::string(delivery_id)},
                        {"notification", notification_json(n)}}
      .dump();
}

void WebhookChannel::deliver(const Notification& n) {
  for (const auto& w : store_.of(n.user_id)) {
    const std::string delivery = random_hex_id();
    enqueue(w, delivery, payload(n, delivery));
  }
}

bool WebhookChannel::redeliver(const WebhookFailure& f) {
  const auto w = store_.get(f.webhook_id);
  if (!w) return false;
  const auto body = nlohmann::json::parse(f.payload, nullptr, false);
  std::string delivery = random_hex_id();
  if (body.is_object() && body.contains("delivery") && body["delivery"].is_string()) {
    delivery = body["delivery"].get<std::string>();  // the same delivery, again
  }
  enqueue(*w, std::move(delivery), f.payload);
  return true;
}

size_t WebhookChannel::resume() {
  size_t resumed = 0;
  for (auto& d : store_.pending()) {
    const auto w = store_.get(d.webhook_id);
    if (!w) {
      store_.remove_pending(d.id);
      continue;
    }
    enqueue(*w, d.id, std::move(d.payload), d.attempts, d.due_ms, /*kept=*/true);
    ++resumed;
  }
  if (resumed > 0) spdlog::info("webhook.resumed deliveries={}", resumed);
  return resumed;
}

WebhookChannel::Stats WebhookChannel::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void WebhookChannel::enqueue(const Webhook& w, std::string delivery_id, std::string body,
                             int attempts, int64_t due_ms, bool kept) {
  if (queue_.queued() >= options_.max_queued) {
    // A receiver that has been down a long time does not hold the server's memory.
    store_.add_failure(
        {random_hex_id(), w.id, w.user_id, w.url, std::move(body), attempts, 0, clock_.now_ms()});
    if (kept) store_.remove_pending(delivery_id);
    std::lock_guard lock(mu_);
    ++stats_.dead;
    return;
  }
  const int64_t now = clock_.now_ms();
  // Kept until it got through or was dead-lettered, so a restart resumes it.
  if (!kept && !store_.add_pending({delivery_id, w.id, w.user_id, body, attempts, now})) {
    spdlog::warn("webhook.not_kept webhook={} delivery={}", w.id, delivery_id);
  }
  queue_.post(
      [this, webhook_id = w.id, delivery_id = std::move(delivery_id),
       body = std::move(body)](size_t n) { return attempt(webhook_id, delivery_id, body, n); },
      static_cast<size_t>(attempts), std::chrono::milliseconds(std::max<int64_t>(0, due_ms - now)));
}

std::optional<std::chrono::milliseconds> WebhookChannel::attempt(const std::string& webhook_id,
                                                                 const std::string& delivery_id,
                                                                 const std::string& body,
                                                                 size_t n) {
  // Read again at every attempt: a webhook deleted meanwhile gets nothing more.
  const auto w = store_.get(webhook_id);
  if (!w) {
    store_.remove_pending(delivery_id);
    return std::nullopt;
  }
  const int64_t t = clock_.now_ms() / 1000;
  const auto status =
      poster_.post(w->url,
                   {{"Content-Type", "application/json"},
                    {"User-Agent", "Nightjar-Webhook/1"},
                    {"Nightjar-Delivery", delivery_id},
                    {"Nightjar-Attempt", std::to_string(n + 1)},
                    {"Nightjar-Signature", webhook_signature(store_.secret(w->id), t, body)}},
                   body);
  const int s = status.value_or(0);
  store_.record_attempt(w->id, s);
  if (s >= 200 && s < 300) {
    store_.remove_pending(delivery_id);
    std::lock_guard lock(mu_);
    ++stats_.sent;
    return std::nullopt;
  }
  // No answer, a timeout, too many requests or a server error may pass; another 4xx will not.
  const bool may_pass = s == 0 || s == 408 || s == 429 || s >= 500;
  if (may_pass && n + 1 < options_.attempts) {
    const auto wait = std::chrono::milliseconds(options_.first_retry_ms << std::min<size_t>(n, 20));
    store_.set_pending(delivery_id, static_cast<int>(n + 1), clock_.now_ms() + wait.count());
    std::lock_guard lock(mu_);
    ++stats_.retried;
    return wait;
  }
  spdlog::warn("webhook.failed webhook={} status={} attempts={}", w->id, s, n + 1);
  store_.add_failure({random_hex_id(), w->id, w->user_id, w->url, body, static_cast<int>(n + 1), s,
                      clock_.now_ms()});
  store_.remove_pending(delivery_id);
  std::lock_guard lock(mu_);
  ++stats_.dead;
  return std::nullopt;
}

}  // namespace nj::notify
