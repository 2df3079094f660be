#include "notify/push_channel.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <array>
#include <nlohmann/json.hpp>

#include "common/random.h"
#include "common/time.h"

namespace nj::notify {
namespace {

using store::Value;

// The notification's words in the person's language (English unless Chinese).
std::string title_of(const Notification& n) {
  struct Words {
    events::Kind kind;
    const char* en;
    const char* zh;
  };
  static constexpr std::array<Words, 8> kWords = {{
      {events::Kind::kMotion, "Motion", "移动侦测"},
      {events::Kind::kPerson, "Person", "有人出现"},
      {events::Kind::kSound, "Sound", "声音"},
      {events::Kind::kDeviceAlarm, "Camera alarm", "设备报警"},
      {events::Kind::kOffline, "Offline", "离线"},
      {events::Kind::kPrivacyMode, "Privacy mode", "隐私模式"},
      {events::Kind::kSdCard, "SD card", "SD 卡"},
      {events::Kind::kStorageFull, "Storage full", "存储已满"},
  }};
  const bool zh = n.language == "zh-CN";
  for (const auto& w : kWords) {
    if (w.kind != n.kind) continue;
    return zh ? n.device_name + "：" + w.zh : std::string(w.en) + " at " + n.device_name;
  }
  return n.device_name;
}

std::string body_of(const Notification& n) {
  if (n.grouped <= 0) return "";
  const std::string count = std::to_string(n.grouped);
  return n.language == "zh-CN" ? "另有 " + count + " 次" : "and " + count + " more";
}

bool host_matches(std::string_view host, std::string_view pattern) {
  if (pattern.starts_with("*.")) {
    const std::string_view suffix = pattern.substr(1);  // ".example.com"
    return host.size() > suffix.size() && host.ends_with(suffix);
  }
  return host == pattern;
}

size_t ignore_body(char*, size_t size, size_t n, void*) { return size * n; }

class CurlPoster final : public HttpPoster {
 public:
  std::optional<int> post(const std::string& url,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          const std::string& body) override {
    CURL* curl = curl_easy_init();
    if (!curl) return std::nullopt;
    curl_slist* list = nullptr;
    for (const auto& [name, value] : headers) {
      list = curl_slist_append(list, (name + ": " + value).c_str());
    }
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10'000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, ignore_body);
    const CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) return std::nullopt;
    return static_cast<int>(status);
  }
};

}  // namespace

std::unique_ptr<HttpPoster> curl_poster() { return std::make_unique<CurlPoster>(); }

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
      options_(std::move(options)) {
  thread_ = std::thread([this] { loop(); });
}

PushChannel::~PushChannel() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::string PushChannel::payload(const Notification& n) {
  return nlohmann::json{{"event_id", n.event_id},
                        {"device_id", n.device_id},
                        {"kind", std::string(events::kind_name(n.kind))},
                        {"at", format_rfc3339(SystemTime(std::chrono::milliseconds(n.at_ms)))},
                        {"grouped", n.grouped},
                        {"title", title_of(n)},
                        {"body", body_of(n)}}
      .dump();
}

void PushChannel::deliver(const Notification& n) {
  auto subscriptions = subscriptions_.of(n.user_id);
  if (subscriptions.empty()) return;
  const std::string text = payload(n);
  {
    std::lock_guard lock(mu_);
    for (auto& s : subscriptions) {
      queue_.push_back({std::move(s), text, n.made_us, 0, std::chrono::steady_clock::now()});
    }
  }
  cv_.notify_all();
}

PushChannel::Stats PushChannel::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void PushChannel::drain() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return queue_.empty() && busy_ == 0; });
}

void PushChannel::loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (stopping_) return;
    // The first job that is due (retries wait their turn without holding up others).
    auto now = std::chrono::steady_clock::now();
    auto next = queue_.end();
    auto soonest = std::chrono::steady_clock::time_point::max();
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (it->due <= now) {
        next = it;
        break;
      }
      soonest = std::min(soonest, it->due);
    }
    if (next == queue_.end()) {
      if (queue_.empty()) idle_.notify_all();
      if (soonest == std::chrono::steady_clock::time_point::max()) {
        cv_.wait(lock);
      } else {
        cv_.wait_until(lock, soonest);
      }
      continue;
    }
    Job job = std::move(*next);
    queue_.erase(next);
    ++busy_;
    lock.unlock();
    send(std::move(job));
    lock.lock();
    --busy_;
    if (queue_.empty() && busy_ == 0) idle_.notify_all();
  }
}

void PushChannel::send(Job job) {
  const auto origin = push_origin(job.subscription.endpoint, options_.targets);
  auto body = webpush::encrypt(job.payload, job.subscription.p256dh, job.subscription.auth);
  const int64_t exp = clock_.now_ms() / 1000 + 12 * 3600;
  auto authorization =
      origin ? vapid_.authorization(*origin, options_.subject, exp)
             : Result<std::string, std::string>(Unexpected(std::string("endpoint not allowed")));
  if (!origin || !body || !authorization) {
    // Nothing to send this subscription that could ever work: it goes.
    spdlog::warn("push.dropped subscription={} reason=\"{}\"", job.subscription.id,
                 !origin ? "endpoint not allowed"
                 : !body ? body.error()
                         : authorization.error());
    subscriptions_.remove_endpoint(job.subscription.endpoint);
    std::lock_guard lock(mu_);
    ++stats_.failed;
    return;
  }
  const auto status = poster_.post(job.subscription.endpoint,
                                   {{"Content-Type", "application/octet-stream"},
                                    {"Content-Encoding", "aes128gcm"},
                                    {"TTL", std::to_string(options_.ttl_s)},
                                    {"Urgency", "high"},
                                    {"Authorization", *authorization}},
                                   *body);
  if (observer_) observer_(status.value_or(0), steady_now_us() - job.made_us);
  const int s = status.value_or(0);
  std::lock_guard lock(mu_);
  if (s >= 200 && s < 300) {
    ++stats_.sent;
    return;
  }
  if (s == 404 || s == 410) {  // the browser unsubscribed, or the subscription expired
    ++stats_.expired;
    subscriptions_.remove_endpoint(job.subscription.endpoint);
    spdlog::info("push.subscription_ended subscription={} status={}", job.subscription.id, s);
    return;
  }
  if ((s == 0 || s == 429 || s >= 500) && job.attempt < options_.retry_ms.size()) {
    ++stats_.retried;
    job.due = std::chrono::steady_clock::now() +
              std::chrono::milliseconds(options_.retry_ms[job.attempt]);
    ++job.attempt;
    queue_.push_back(std::move(job));
    cv_.notify_all();
    return;
  }
  ++stats_.failed;
  spdlog::warn("push.failed subscription={} status={}", job.subscription.id, s);
}

}  // namespace nj::notify
