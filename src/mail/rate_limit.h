// How often anyone may make the server send mail (verification, reset, invitations), so it
// is never a spam or phishing relay: at most `limit` mails a window per key, where the keys
// of one mail are its client address, its account (if any) and its destination address.
// A mail is allowed only if every key has room, and then counts against all of them.
// In memory: one node's view.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"

namespace nj::mail {

struct MailRule {
  std::string prefix;  // "ip:", "user:", "to:"
  int limit = 5;
  int64_t window_ms = 600'000;
};

struct MailLimits {
  // A client address: 20 mails in 10 minutes; a person: 10 invitations an hour; one
  // destination: 3 mails in 10 minutes.
  std::vector<MailRule> rules = {
      {"ip:", 20, 600'000}, {"user:", 10, 3'600'000}, {"to:", 3, 600'000}};
};

class MailRateLimiter {
 public:
  MailRateLimiter(const Clock& clock, MailLimits limits = {})
      : clock_(clock), limits_(std::move(limits)) {}

  // 0 and counted if every key has room; otherwise how many ms until it will (nothing is
  // counted). Keys start with a rule's prefix; a key with no rule is not limited.
  int64_t take(const std::vector<std::string>& keys);

 private:
  const MailRule* rule_for(const std::string& key) const;
  const Clock& clock_;
  MailLimits limits_;
  std::mutex mu_;
  std::unordered_map<std::string, std::deque<int64_t>> sent_;  // key → times, oldest first
  int64_t last_prune_ = 0;
};

}  // namespace nj::mail
