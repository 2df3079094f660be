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
  for (auto& w : waiters_) w.done(RpcError{"offline", "the server is stopping"});
}

void StreamDemand::start(const std::string& serial, Done done) {
  const std::string path = "push/" + serial;
  {
    std::lock_guard lock(mu_);
    if (started_.contains(serial)) started_[serial] = std::nullopt;  // watched again
  }
  if (hub_.is_published(path)) {
    done(std::nullopt);
    return;
  }
  const std::string url =
      options_.rtsp_base + "/push/" + serial +
      "?token=" + tokens_.issue(serial, StreamPurpose::kPush, options_.push_token_ttl.count());
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  link_.call(
      serial, "stream.start", {{"url", url}}, options_.start_timeout,
      [this, serial, path, deadline, done = std::move(done)](const RpcResult& result) mutable {
        if (!result) {
          done(result.error());
          return;
        }
        std::lock_guard lock(mu_);
        started_[serial] = std::nullopt;
        waiters_.push_back({path, deadline, std::move(done)});
        wake_.notify_all();
      });
}

void StreamDemand::forget(const std::string& serial) {
  std::lock_guard lock(mu_);
  started_.erase(serial);
}

void StreamDemand::loop() {
  std::unique_lock lock(mu_);
  auto next_sweep = std::chrono::steady_clock::now();
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(50));
    if (stopping_) break;
    const auto now = std::chrono::steady_clock::now();
    // Waiters whose stream came up, or whose time ran out.
    std::vector<std::pair<Done, std::optional<RpcError>>> answers;
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (hub_.is_published(it->path)) {
        answers.emplace_back(std::move(it->done), std::nullopt);
      } else if (now >= it->deadline) {
        answers.emplace_back(std::move(it->done),
                             RpcError{"timeout", "the camera did not start streaming in time"});
      } else {
        ++it;
        continue;
      }
      it = waiters_.erase(it);
    }
    // Streams nobody has watched for the grace period are stopped.
    std::vector<std::string> to_stop;
    if (now >= next_sweep) {
      next_sweep = now + std::chrono::milliseconds(250);
      for (auto it = started_.begin(); it != started_.end();) {
        const std::string path = "push/" + it->first;
        if (hub_.subscriber_count(path) > 0) {
          it->second = std::nullopt;
        } else if (!it->second) {
          it->second = now;
        } else if (now - *it->second >= options_.idle_grace) {
          to_stop.push_back(it->first);
          it = started_.erase(it);
          continue;
        }
        ++it;
      }
    }
    lock.unlock();
    for (auto& [done, error] : answers) done(error);
    for (const auto& serial : to_stop) {
      spdlog::info("device.stream.idle_stop serial={}", serial);
      link_.call(serial, "stream.stop", nlohmann::json::object(), std::chrono::seconds(5),
                 [](const RpcResult&) {});
    }
    lock.lock();
  }
}

}  // namespace nj::device
