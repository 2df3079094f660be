#include "device/stream_demand.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace nj::device {

namespace {
// A relay's token (StreamDemandOptions::relay) outlives this; a relay older than it is made
// again when its stream breaks, so that it never retries with an expired token.
constexpr std::chrono::hours kRelayRenewal{1};
}  // namespace

StreamDemand::StreamDemand(media::hub::Hub& hub, BrokerLink& link, const StreamAccess& access,
                           StreamDemandOptions options)
    : hub_(hub), link_(link), access_(access), options_(std::move(options)) {
  thread_ = std::thread([this] { loop(); });
}

StreamDemand::~StreamDemand() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  for (auto& w : waiters_) w.done(Unexpected(RpcError{"offline", "the server is stopping"}));
}

nlohmann::json StreamDemand::with_epoch(nlohmann::json params) const {
  if (options_.epoch) {
    if (const int64_t epoch = options_.epoch(); epoch > 0) params["epoch"] = epoch;
  }
  return params;
}

void StreamDemand::start(const std::string& serial, Done done) {
  const std::string path = "push/" + serial;
  {
    std::lock_guard lock(mu_);
    if (auto it = started_.find(path); it != started_.end()) {
      it->second.unwatched_since = std::nullopt;  // watched again
    }
  }
  if (hub_.is_published(path)) {
    done(std::nullopt);
    return;
  }
  if (options_.elsewhere) {
    if (auto base = options_.elsewhere(serial)) {
      start_relay(serial, *base, std::move(done));
      return;
    }
  }
  const auto asked = std::chrono::steady_clock::now();
  const std::string url =
      options_.rtsp_base + "/" + path +
      "?token=" + access_.for_device(serial, StreamPurpose::kPush, options_.push_token_ttl.count());
  const auto deadline = asked + options_.start_timeout;
  const auto before_rpc = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - asked);
  link_.call(serial, "stream.start", with_epoch({{"url", url}}), options_.start_timeout,
             [this, serial, path, deadline, asked, before_rpc,
              done = std::move(done)](const RpcResult& result) {
               if (!result) {
                 done(result.error());
                 return;
               }
               std::shared_ptr<void> relay;  // one left from before goes outside the lock
               std::lock_guard lock(mu_);
               auto& started = started_[path];
               relay = std::move(started.relay);
               started = Started{serial, "stream.stop", std::nullopt, {}, nullptr, {}, {}};
               waiters_.push_back({path, deadline,
                                   [done](const RpcResult& r) {
                                     done(r ? std::nullopt : std::optional(r.error()));
                                   },
                                   *result, asked, before_rpc, std::nullopt});
               wake_.notify_all();
             });
}

void StreamDemand::start_relay(const std::string& serial, const std::string& base, Done done) {
  const std::string path = "push/" + serial;
  const auto now = std::chrono::steady_clock::now();
  std::shared_ptr<void> old;
  bool make = false;
  {
    std::lock_guard lock(mu_);
    auto& s = started_[path];
    if (s.relay_from != base || !s.relay) {
      old = std::move(s.relay);
      make = true;
    }
    s.serial = serial;
    s.unwatched_since = std::nullopt;
    s.relay_from = base;
    s.asked_holder = now;
    waiters_.push_back({path, now + options_.start_timeout,
                        [done = std::move(done)](const RpcResult& r) {
                          done(r ? std::nullopt : std::optional(r.error()));
                        },
                        nlohmann::json::object(), now, std::chrono::microseconds(0), std::nullopt});
  }
  old.reset();
  if (options_.ask_holder) options_.ask_holder(serial);
  if (!make) return;
  spdlog::info("device.stream.relay serial={} from={}", serial, base);
  auto relay = options_.relay(serial, base);
  {
    std::lock_guard lock(mu_);
    auto it = started_.find(path);
    if (it != started_.end() && it->second.relay_from == base && !it->second.relay) {
      it->second.relay = std::move(relay);
      it->second.relayed_at = now;
      it->second.stop_method.clear();  // the camera pushes to the other node, not here
    }
  }
  // A relay made twice at once (or for a stream let go meanwhile) goes here, outside the lock.
  relay.reset();
  wake_.notify_all();
}

void StreamDemand::rehome() {
  if (!options_.elsewhere) return;
  std::vector<std::shared_ptr<void>> dropped;
  std::vector<std::string> restart, hand_over;
  {
    std::lock_guard lock(mu_);
    for (auto it = started_.begin(); it != started_.end();) {
      auto& s = it->second;
      if (!it->first.starts_with("push/")) {
        ++it;
        continue;
      }
      const std::string from = options_.elsewhere(s.serial).value_or("");
      if (from == s.relay_from) {
        ++it;
        continue;
      }
      // Needed: kept on, watched, or someone waits for it to come up.
      const bool needed = kept_on_.contains(s.serial) || hub_.subscriber_count(it->first) > 0 ||
                          std::any_of(waiters_.begin(), waiters_.end(),
                                      [&](const Waiter& w) { return w.path == it->first; });
      spdlog::info("device.stream.rehome serial={} was={} now={} needed={}", s.serial,
                   s.relay_from.empty() ? "here" : s.relay_from, from.empty() ? "here" : from,
                   needed);
      if (!s.relay && !s.stop_method.empty() && from.empty()) {
        s.relay_from.clear();  // handed over, but back here before it moved: ours again
        ++it;
        continue;
      }
      if (s.relay || !s.relay_from.empty()) {
        // Relayed from a node that no longer holds it: from where it lives now, if needed.
        if (s.relay) dropped.push_back(std::move(s.relay));
        if (needed) restart.push_back(s.serial);
        it = started_.erase(it);
        continue;
      }
      // The camera pushes here but now belongs to another node: that node is asked to take
      // it; the viewers here follow it there (their stream ends when it moves, and they come
      // back through a relay). Kept until idle, so a camera that never moves is still
      // stopped in the end.
      s.relay_from = from;
      if (needed) hand_over.push_back(s.serial);
      ++it;
    }
  }
  dropped.clear();
  for (const auto& serial : hand_over) {
    spdlog::info("device.stream.hand_over serial={}", serial);
    if (options_.ask_holder) options_.ask_holder(serial);
  }
  for (const auto& serial : restart) {
    start(serial, [serial](std::optional<RpcError> error) {
      if (error) {
        spdlog::warn("device.stream.rehome serial={} error=\"{}\"", serial, error->message);
      }
    });
  }
}

void StreamDemand::drop_relays() {
  std::vector<std::shared_ptr<void>> dropped;
  std::lock_guard lock(mu_);
  std::erase_if(started_, [&](auto& s) {
    if (!s.second.relay) return false;
    dropped.push_back(std::move(s.second.relay));
    return true;
  });
}

void StreamDemand::play_recording(const std::string& serial, const std::string& name,
                                  int64_t offset_ms, RpcCallback done) {
  const std::string path = "sd/" + serial;
  // The playback running (another recording, or this one from elsewhere) ends: its viewers
  // are told, and the new one can be published.
  hub_.evict(path);
  const std::string url =
      options_.rtsp_base + "/" + path + "?token=" +
      access_.for_device(serial, StreamPurpose::kSdPush, options_.push_token_ttl.count());
  const auto asked = std::chrono::steady_clock::now();
  const auto deadline = asked + options_.start_timeout;
  link_.call(
      serial, "sd.play", {{"name", name}, {"offset_ms", offset_ms}, {"url", url}},
      options_.start_timeout,
      [this, serial, path, deadline, asked, done = std::move(done)](const RpcResult& result) {
        if (!result) {
          done(result);
          return;
        }
        std::lock_guard lock(mu_);
        started_[path] = Started{serial, "sd.stop", std::nullopt, {}, nullptr, {}, {}};
        waiters_.push_back({path, deadline, done, *result, asked, {}, std::nullopt});
        wake_.notify_all();
      });
}

void StreamDemand::on_published(const std::string& path) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  bool waited = false;
  for (auto& w : waiters_) {
    if (w.path == path) {
      w.published_at = now;
      waited = true;
    }
  }
  if (waited) wake_.notify_all();
}

void StreamDemand::set_kept_on(const std::string& why, std::set<std::string> serials) {
  std::lock_guard lock(mu_);
  kept_on_by_[why] = std::move(serials);
  kept_on_.clear();
  for (const auto& [reason, set] : kept_on_by_) kept_on_.insert(set.begin(), set.end());
  std::erase_if(kept_on_tried_, [&](const auto& t) { return !kept_on_.contains(t.first); });
  wake_.notify_all();
}

void StreamDemand::forget(const std::string& serial) {
  std::vector<std::shared_ptr<void>> dropped;  // relays stop outside the lock
  std::lock_guard lock(mu_);
  std::erase_if(started_, [&](auto& s) {
    if (s.second.serial != serial) return false;
    if (s.second.relay) dropped.push_back(std::move(s.second.relay));
    return true;
  });
}

void StreamDemand::loop() {
  std::unique_lock lock(mu_);
  auto next_sweep = std::chrono::steady_clock::now();
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(50));
    if (stopping_) break;
    const auto now = std::chrono::steady_clock::now();
    // Waiters whose stream came up, or whose time ran out.
    std::vector<std::pair<RpcCallback, RpcResult>> answers;
    std::vector<Waiter> woken;  // for the figures, live streams only
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (hub_.is_published(it->path)) {
        answers.emplace_back(std::move(it->done), std::move(it->answer));
        if (it->path.starts_with("push/")) {
          woken.push_back(
              {it->path, {}, {}, {}, it->asked, it->before_rpc, it->published_at.value_or(now)});
        }
      } else if (now >= it->deadline) {
        answers.emplace_back(
            std::move(it->done),
            Unexpected(RpcError{"timeout", "the camera did not start streaming in time"}));
      } else {
        ++it;
        continue;
      }
      it = waiters_.erase(it);
    }
    // Streams nobody has watched for the grace period are stopped: a relay is dropped; a
    // camera is told to stop unless it now pushes to another node.
    std::vector<std::pair<std::string, std::string>> to_stop;  // serial, method
    std::vector<std::shared_ptr<void>> dropped;                // relays, destroyed outside the lock
    std::vector<std::string> ask_again;                      // relays still waiting for their node
    std::vector<std::pair<std::string, std::string>> renew;  // serial, base: fresh relays
    if (now >= next_sweep) {
      next_sweep = now + std::chrono::milliseconds(250);
      for (auto it = started_.begin(); it != started_.end();) {
        auto& s = it->second;
        const bool live = hub_.is_published(it->first);
        // Watched, or recorded (kept on): not idle.
        if ((kept_on_.contains(s.serial) && it->first.starts_with("push/")) ||
            hub_.subscriber_count(it->first) > 0) {
          s.unwatched_since = std::nullopt;
        } else if (!s.unwatched_since) {
          s.unwatched_since = now;
        } else if (now - *s.unwatched_since >= options_.idle_grace) {
          if (s.relay) {
            dropped.push_back(std::move(s.relay));
          } else if (!s.stop_method.empty() && (s.relay_from.empty() || live)) {
            to_stop.emplace_back(s.serial, s.stop_method);
          }
          it = started_.erase(it);
          continue;
        }
        // A relay whose node has not published the stream yet: that node is asked again
        // (it may have missed the first ask, or the camera was offline). One running long
        // is made again, with a fresh token, when its stream breaks.
        if (s.relay && !live) {
          if (now - s.relayed_at >= kRelayRenewal) {
            dropped.push_back(std::move(s.relay));
            renew.emplace_back(s.serial, s.relay_from);
          } else if (now - s.asked_holder >= std::chrono::seconds(2)) {
            s.asked_holder = now;
            ask_again.push_back(s.serial);
          }
        }
        ++it;
      }
    }
    // Recorded devices whose stream is not live: ask again, backing off while they stay
    // offline (each ask of an offline device costs a lookup).
    std::vector<std::string> to_start;
    for (const auto& serial : kept_on_) {
      const std::string path = "push/" + serial;
      auto& retry = kept_on_tried_[serial];
      if (hub_.is_published(path)) {
        retry = Retry{};
        continue;
      }
      if (now < retry.next) continue;
      if (std::any_of(waiters_.begin(), waiters_.end(),
                      [&](const Waiter& w) { return w.path == path; })) {
        continue;
      }
      retry.next = now + retry.delay;
      retry.delay = std::min<std::chrono::milliseconds>(retry.delay * 2, std::chrono::seconds(10));
      to_start.push_back(serial);
    }
    lock.unlock();
    dropped.clear();
    for (const auto& serial : ask_again) {
      if (options_.ask_holder) options_.ask_holder(serial);
    }
    for (const auto& [serial, base] : renew) {
      start_relay(serial, base, [](std::optional<RpcError>) {});
    }
    for (const auto& serial : to_start) {
      start(serial, [serial](std::optional<RpcError> error) {
        if (error) {
          spdlog::debug("device.stream.keep_on serial={} error=\"{}\"", serial, error->message);
        }
      });
    }
    for (auto& [done, result] : answers) done(std::move(result));
    for (const auto& w : woken) {
      // The server's part: before the RPC, and from the stream's publication to the answer.
      const auto answered = std::chrono::steady_clock::now();
      const auto server = w.before_rpc + std::chrono::duration_cast<std::chrono::microseconds>(
                                             answered - *w.published_at);
      const auto total = std::chrono::duration_cast<std::chrono::microseconds>(answered - w.asked);
      spdlog::info("device.stream.woken path={} server_us={} total_us={}", w.path, server.count(),
                   total.count());
      if (options_.on_woken) options_.on_woken(server, total);
    }
    for (const auto& [serial, method] : to_stop) {
      spdlog::info("device.stream.idle_stop serial={} method={}", serial, method);
      link_.call(
          serial, method,
          method == "stream.stop" ? with_epoch(nlohmann::json::object()) : nlohmann::json::object(),
          std::chrono::seconds(5), [](const RpcResult&) {});
    }
    lock.lock();
  }
}

}  // namespace nj::device
