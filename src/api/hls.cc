#include "api/hls.h"

#include <charconv>
#include <chrono>
#include <functional>
#include <vector>

#include "media/fmp4/live.h"
#include "media/hls/live_hls.h"

namespace nj::api {
namespace {

constexpr auto kIdle = std::chrono::seconds(30);

std::optional<int64_t> to_int(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

http::Response media_response(std::string body, std::string_view type) {
  http::Response r = http::text_response(200, std::move(body), std::string(type));
  r.headers.set("Cache-Control", "no-cache");
  return r;
}

}  // namespace

// One stream's HLS: fed from the hub on the publisher's thread; read by requests.
struct HlsApi::Channel : std::enable_shared_from_this<HlsApi::Channel> {
  struct Waiter {
    int64_t msn;
    int part;  // -1: the whole segment
    std::function<void(bool ended)> fire;
  };

  void on_wake() {
    std::vector<Waiter> ready;
    {
      std::lock_guard lock(mu);
      if (!subscription) return;  // still subscribing: drained right after
      frames.clear();
      subscription->queue().drain(frames);
      for (const auto& f : frames) {
        hls.push(*f, std::dynamic_pointer_cast<const media::fmp4::LiveFragment>(
                         f->packaged(media::hub::Packaging::kLiveFmp4)));
      }
      frames.clear();
      if (subscription->queue().ended()) ended = true;
      std::erase_if(waiters, [&](Waiter& w) {
        // A part a segment ended without (it was cut at a keyframe first) will never come:
        // the segment's end answers it (the playlist then lists the next segment's parts).
        const bool satisfied = hls.available(w.msn, w.part) ||
                               (w.part >= 0 && hls.available(w.msn, -1)) || hls.too_old(w.msn);
        if (!ended && !satisfied) return false;
        ready.push_back(std::move(w));
        return true;
      });
    }
    for (auto& w : ready) w.fire(ended);  // outside the lock: they answer on other loops
  }

  std::mutex mu;
  media::hls::LiveHls hls;
  std::unique_ptr<media::hub::Subscription> subscription;
  std::vector<media::hub::FramePtr> frames;
  std::vector<Waiter> waiters;
  bool ended = false;
  std::chrono::steady_clock::time_point last_request = std::chrono::steady_clock::now();
};

HlsApi::HlsApi(media::hub::Hub& hub, const MediaAccess& access, metrics::Registry& metrics)
    : hub_(hub),
      access_(access),
      requests_(metrics.counter("nightjar_hls_requests_total", "Live HLS requests.").with({})) {}

HlsApi::~HlsApi() {
  std::map<std::string, std::shared_ptr<Channel>> channels;
  {
    std::lock_guard lock(mu_);
    channels.swap(channels_);
  }
  for (auto& [serial, ch] : channels) {
    std::unique_ptr<media::hub::Subscription> sub;
    std::vector<Channel::Waiter> waiters;
    {
      std::lock_guard lock(ch->mu);
      sub = std::move(ch->subscription);
      waiters.swap(ch->waiters);
    }
    for (auto& w : waiters) w.fire(true);
  }
}

std::shared_ptr<HlsApi::Channel> HlsApi::channel(const std::string& serial) {
  std::vector<std::shared_ptr<Channel>> dropped;  // destroyed outside our lock
  std::shared_ptr<Channel> ch;
  {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    for (auto it = channels_.begin(); it != channels_.end();) {
      bool drop;
      {
        std::lock_guard channel_lock(it->second->mu);
        drop = it->second->ended ||
               (now - it->second->last_request > kIdle && it->second->waiters.empty());
      }
      if (drop) {
        dropped.push_back(std::move(it->second));
        it = channels_.erase(it);
      } else {
        ++it;
      }
    }
    if (auto it = channels_.find(serial); it != channels_.end()) ch = it->second;
  }
  for (auto& d : dropped) {
    // Unsubscribe outside the channel's lock: the hub calls on_wake (which takes that lock)
    // while holding the stream's, so holding ours while taking the stream's could deadlock.
    std::unique_ptr<media::hub::Subscription> subscription;
    {
      std::lock_guard lock(d->mu);
      subscription = std::move(d->subscription);
    }
  }
  if (ch) {
    std::lock_guard lock(ch->mu);
    ch->last_request = std::chrono::steady_clock::now();
    return ch;
  }
  ch = std::make_shared<Channel>();
  std::weak_ptr<Channel> weak = ch;
  auto sub = hub_.subscribe(
      "push/" + serial,
      [weak] {
        if (auto c = weak.lock()) c->on_wake();
      },
      media::hub::Packaging::kLiveFmp4);
  if (!sub) return nullptr;
  {
    std::lock_guard lock(ch->mu);
    ch->subscription = std::move(*sub);
  }
  ch->on_wake();  // the cached GOP
  std::lock_guard lock(mu_);
  auto [it, inserted] = channels_.emplace(serial, ch);
  return it->second;  // another request may have made one meanwhile: use that
}

void HlsApi::install(http::Router& router) {
  router.add_async(
      http::Method::kGet, "/api/v1/devices/{id}/live.m3u8",
      [this](http::Request& r, const http::Responder& respond) { playlist(r, respond); });
  router.add_async(http::Method::kGet, "/api/v1/devices/{id}/hls/{file}",
                   [this](http::Request& r, const http::Responder& respond) { media(r, respond); });
}

void HlsApi::playlist(http::Request& request, const http::Responder& respond) {
  requests_.inc();
  auto grant = access_.check(request);
  if (!grant) return respond(std::move(grant).error());
  const std::string serial = grant->serial, token = grant->token;
  auto ch = channel(serial);
  if (!ch) return respond(http::error_response(404, "not_live", "the camera is not streaming"));
  if (trail_) trail_(access_of(*grant, "live", R"({"via":"hls"})"));
  int64_t msn = -1;  // with no _HLS_msn: wait for a first whole segment
  int part = -1;
  if (auto m = request.query_param("_HLS_msn")) {
    auto value = to_int(*m);
    if (!value) return respond(http::error_response(400, "bad_request", "bad _HLS_msn"));
    msn = *value;
    part = -1;
    if (auto p = request.query_param("_HLS_part")) {
      auto pv = to_int(*p);
      if (!pv || *pv > 1000)
        return respond(http::error_response(400, "bad_request", "bad _HLS_part"));
      part = static_cast<int>(*pv);
    }
  } else if (request.query_param("_HLS_part")) {
    return respond(http::error_response(400, "bad_request", "_HLS_part needs _HLS_msn"));
  }
  const std::string query = token.empty() ? std::string() : "?token=" + token;
  auto answer = [ch, query, respond](bool ended) {
    std::string text;
    {
      std::lock_guard lock(ch->mu);
      text = ch->hls.playlist(query);
    }
    if (ended && text.empty()) {
      return respond(http::error_response(404, "not_live", "the camera stopped streaming"));
    }
    respond(media_response(std::move(text), "application/vnd.apple.mpegurl"));
  };
  std::unique_lock lock(ch->mu);
  if (msn < 0) msn = ch->hls.first_msn();
  if (!ch->hls.reachable(msn)) {
    // RFC 8216bis §6.2.5.2: a request too far ahead of the live edge is an error.
    lock.unlock();
    return respond(http::error_response(400, "bad_request", "_HLS_msn is too far ahead"));
  }
  const bool now = ch->ended ||
                   (part < 0 ? ch->hls.available(msn, -1)
                             : ch->hls.available(msn, part) || ch->hls.available(msn, -1)) ||
                   ch->hls.too_old(msn);
  if (now) {
    const bool ended = ch->ended;
    lock.unlock();
    return answer(ended);
  }
  ch->waiters.push_back({msn, part, answer});
}

void HlsApi::media(http::Request& request, const http::Responder& respond) {
  requests_.inc();
  auto grant = access_.check(request);
  if (!grant) return respond(std::move(grant).error());
  const std::string serial = grant->serial;
  // init.mp4, s{msn}.m4s or p{msn}.{part}.m4s
  const std::string file = request.params.at("file");
  int64_t msn = -1;
  int part = -1;
  bool init = false;
  if (file == "init.mp4") {
    init = true;
  } else if (file.size() > 5 && file.ends_with(".m4s") && (file[0] == 's' || file[0] == 'p')) {
    std::string_view name(file);
    name = name.substr(1, name.size() - 5);
    if (file[0] == 'p') {
      const size_t dot = name.find('.');
      if (dot == std::string_view::npos)
        return respond(http::error_response(404, "not_found", "no such file"));
      auto p = to_int(name.substr(dot + 1));
      if (!p || *p > 1000) return respond(http::error_response(404, "not_found", "no such file"));
      part = static_cast<int>(*p);
      name = name.substr(0, dot);
    }
    auto m = to_int(name);
    if (!m) return respond(http::error_response(404, "not_found", "no such file"));
    msn = *m;
  } else {
    return respond(http::error_response(404, "not_found", "no such file"));
  }
  auto ch = channel(serial);
  if (!ch) return respond(http::error_response(404, "not_live", "the camera is not streaming"));
  auto answer = [ch, msn, part, init, respond](bool) {
    std::optional<std::string> bytes;
    {
      std::lock_guard lock(ch->mu);
      bytes = init ? ch->hls.init() : part < 0 ? ch->hls.segment(msn) : ch->hls.part(msn, part);
    }
    if (!bytes) return respond(http::error_response(404, "not_found", "no longer available"));
    respond(media_response(std::move(*bytes), "video/mp4"));
  };
  std::unique_lock lock(ch->mu);
  if (init) {
    if (ch->hls.init() || ch->ended) {
      lock.unlock();
      return answer(true);
    }
    ch->waiters.push_back({0, 0, answer});
    return;
  }
  if (ch->hls.too_old(msn) || ch->ended || ch->hls.available(msn, part) ||
      (part >= 0 && ch->hls.available(msn, -1))) {  // a part the segment ended without: 404
    lock.unlock();
    return answer(true);
  }
  if (!ch->hls.reachable(msn)) {
    lock.unlock();
    return respond(http::error_response(404, "not_found", "not made yet"));
  }
  // A part hinted by the playlist, or the segment in progress: answer when it is complete.
  ch->waiters.push_back({msn, part, answer});
}

}  // namespace nj::api
