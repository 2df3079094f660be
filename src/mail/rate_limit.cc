#include "mail/rate_limit.h"

#include <algorithm>

namespace nj::mail {

const MailRule* MailRateLimiter::rule_for(const std::string& key) const {
  for (const auto& r : limits_.rules) {
    if (key.starts_with(r.prefix)) return &r;
  }
  return nullptr;
}

int64_t MailRateLimiter::take(const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  const int64_t now = clock_.now_ms();
  int64_t wait = 0;
  for (const auto& key : keys) {
    const auto* rule = rule_for(key);
    if (!rule) continue;
    auto& times = sent_[key];
    while (!times.empty() && times.front() <= now - rule->window_ms) times.pop_front();
    if (static_cast<int>(times.size()) >= rule->limit) {
      wait = std::max(wait, times.front() + rule->window_ms - now);
    }
  }
  if (wait == 0) {
    for (const auto& key : keys) {
      if (rule_for(key)) sent_[key].push_back(now);
    }
  }
  if (now - last_prune_ > 60'000) {  // keys with nothing in their window are forgotten
    last_prune_ = now;
    std::erase_if(sent_, [&](const auto& kv) {
      const auto* rule = rule_for(kv.first);
      return kv.second.empty() || !rule || kv.second.back() <= now - rule->window_ms;
    });
  }
  return wait;
}

}  // namespace nj::mail
