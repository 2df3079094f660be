#include "device/stream_demand.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace nj::device {

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
  const auto asked = std::chrono::steady_clock::now();
  const std::string url =
      options_.rtsp_base + "/" + path +
      "?token=" + access_.for_device(serial, StreamPurpose::kPush, options_.push_token_ttl.count());
  const auto deadline = asked + options_.start_timeout;
  const auto before_rpc = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - asked);
  link_.call(serial, "stream.start", {{"url", url}}, options_.start_timeout,
             [this, serial, path, deadline, asked, before_rpc,
              done = std::move(done)](const RpcResult& result) {
               if (!result) {
                 done(result.error());
                 return;
               }
               std::lock_guard lock(mu_);
               started_[path] = {serial, "stream.stop", std::nullopt};
               waiters_.push_back({path, deadline,
                                   [done](const RpcResult& r) {
                                     done(r ? std::nullopt : std::optional(r.error()));
                                   },
                                   *result, asked, before_rpc, std::nullopt});
               wake_.notify_all();
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
        started_[path] = {serial, "sd.stop", std::nullopt};
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
  std::lock_guard lock(mu_);
  std::erase_if(started_, [&](const auto& s) { return s.second.serial == serial; });
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
    // Streams nobody has watched for the grace period are stopped.
    std::vector<std::pair<std::string, std::string>> to_stop;  // serial, method
    if (now >= next_sweep) {
      next_sweep = now + std::chrono::milliseconds(250);
      for (auto it = started_.begin(); it != started_.end();) {
        auto& s = it->second;
        // Watched, or recorded (kept on): not idle.
        if ((kept_on_.contains(s.serial) && it->first.starts_with("push/")) ||
            hub_.subscriber_count(it->first) > 0) {
          s.unwatched_since = std::nullopt;
        } else if (!s.unwatched_since) {
          s.unwatched_since = now;
        } else if (now - *s.unwatched_since >= options_.idle_grace) {
          to_stop.emplace_back(s.serial, s.stop_method);
          it = started_.erase(it);
          continue;
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
      link_.call(serial, method, nlohmann::json::object(), std::chrono::seconds(5),
                 [](const RpcResult&) {});
    }
    lock.lock();
  }
}

}  // namespace nj::device
