#include "notify/in_app.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <vector>

#include "notify/text.h"

namespace nj::notify {

std::string InAppChannel::message(const Notification& n) {
  auto m = notification_json(n);
  m["type"] = "event";
  m["snapshot"] = "/api/v1/events/" + n.event_id + "/snapshot.jpg";  // with the tab's session
  return m.dump();
}

void InAppChannel::deliver(const Notification& n) {
  std::vector<std::pair<uint64_t, Send>> targets;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, c] : connections_) {
      if (c.user_id == n.user_id) targets.emplace_back(id, c.send);
    }
  }
  if (targets.empty()) return;
  const std::string text = message(n);
  std::vector<uint64_t> gone;
  for (auto& [id, send] : targets) {
    if (!send(text)) gone.push_back(id);
  }
  if (latency_) {
    latency_(steady_now_us() - n.made_us);
  }
  for (uint64_t id : gone) disconnect(id);
}

uint64_t InAppChannel::connect(const std::string& user_id, Send send) {
  std::lock_guard lock(mu_);
  const uint64_t id = next_id_++;
  connections_.emplace(id, Connection{user_id, std::move(send)});
  return id;
}

void InAppChannel::disconnect(uint64_t id) {
  std::lock_guard lock(mu_);
  connections_.erase(id);
}

size_t InAppChannel::connections() const {
  std::lock_guard lock(mu_);
  return connections_.size();
}

}  // namespace nj::notify
