#include "device/stream_demand.h"

#include <spdlog/spdlog.h>

namespace nj::device {

StreamDemand::StreamDemand(media::hub::Hub& hub, BrokerLink& link, const StreamTokens& tokens,
                           StreamDemandOptions options)
    : hub_(hub), link_(link), tokens_(tokens), options_(std::move(options)) {
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
  const std::string url =
      options_.rtsp_base + "/" + path +
      "?token=" + tokens_.issue(serial, StreamPurpose::kPush, options_.push_token_ttl.count());
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  link_.call(serial, "stream.start", {{"url", url}}, options_.start_timeout,
             [this, serial, path, deadline, done = std::move(done)](const RpcResult& result) {
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
                                   *result});
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
      options_.rtsp_base + "/" + path +
      "?token=" + tokens_.issue(serial, StreamPurpose::kSdPush, options_.push_token_ttl.count());
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  link_.call(serial, "sd.play", {{"name", name}, {"offset_ms", offset_ms}, {"url", url}},
             options_.start_timeout,
             [this, serial, path, deadline, done = std::move(done)](const RpcResult& result) {
               if (!result) {
                 done(result);
                 return;
               }
               std::lock_guard lock(mu_);
               started_[path] = {serial, "sd.stop", std::nullopt};
               waiters_.push_back({path, deadline, done, *result});
               wake_.notify_all();
             });
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
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (hub_.is_published(it->path)) {
        answers.emplace_back(std::move(it->done), std::move(it->answer));
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
        if (hub_.subscriber_count(it->first) > 0) {
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
    lock.unlock();
    for (auto& [done, result] : answers) done(std::move(result));
    for (const auto& [serial, method] : to_stop) {
      spdlog::info("device.stream.idle_stop serial={} method={}", serial, method);
      link_.call(serial, method, nlohmann::json::object(), std::chrono::seconds(5),
                 [](const RpcResult&) {});
    }
    lock.lock();
  }
}

}  // namespace nj::device
