#include "account/throttle.h"

#include <algorithm>

namespace nj::account {

int64_t LoginThrottle::remaining(std::unordered_map<std::string, Entry>& map,
                                 const std::string& key, int64_t now) {
  const auto it = map.find(key);
  if (it == map.end()) return 0;
  return std::max<int64_t>(0, it->second.locked_until - now);
}

namespace {

std::string pair_key(const std::string& account, const std::string& address) {
  return account + "\n" + address;
}

}  // namespace

int64_t LoginThrottle::retry_after_ms(const std::string& account, const std::string& address) {
  std::lock_guard lock(mu_);
  const int64_t now = clock_.now_ms();
  const auto pair = pair_key(account, address);
  int64_t wait = std::max(remaining(pairs_, pair, now), remaining(addresses_, address, now));
  // Guessing from many addresses slows the account for new addresses only.
  const auto known = known_.find(pair);
  if (known == known_.end() || now - known->second > options_.known_for_ms) {
    wait = std::max(wait, remaining(accounts_, account, now));
  }
  return wait;
}

void LoginThrottle::fail(std::unordered_map<std::string, Entry>& map, const std::string& key,
                         int threshold, int64_t now) {
  auto& e = map[key];
  if (now - e.last_failure > options_.forget_after_ms) {
    e.failures = 0;
    e.locks = 0;
  }
  e.last_failure = now;
  if (++e.failures < threshold) return;
  const int64_t lock =
      std::min(options_.max_lock_ms, options_.base_lock_ms << std::min(e.locks, 20));
  e.locked_until = now + lock;
  e.failures = 0;
  ++e.locks;
}

void LoginThrottle::record_failure(const std::string& account, const std::string& address) {
  std::lock_guard lock(mu_);
  const int64_t now = clock_.now_ms();
  fail(pairs_, pair_key(account, address), options_.account_threshold, now);
  fail(accounts_, account, options_.account_wide_threshold, now);
  fail(addresses_, address, options_.address_threshold, now);
  prune(now);
}

void LoginThrottle::record_success(const std::string& account, const std::string& address) {
  std::lock_guard lock(mu_);
  const auto pair = pair_key(account, address);
  pairs_.erase(pair);
  accounts_.erase(account);
  known_[pair] = clock_.now_ms();
}

void LoginThrottle::prune(int64_t now) {
  if (now - last_prune_ < 60'000) return;
  last_prune_ = now;
  for (auto* map : {&pairs_, &accounts_, &addresses_}) {
    std::erase_if(*map, [&](const auto& kv) {
      return kv.second.locked_until < now &&
             now - kv.second.last_failure > options_.forget_after_ms;
    });
  }
  std::erase_if(known_, [&](const auto& kv) { return now - kv.second > options_.known_for_ms; });
}

}  // namespace nj::account
