// Sign-in throttling against guessing and credential stuffing that never locks the owner out
// (ASVS 2.2.1, "soft lockout"). Failures are counted per account *and address* (the account
// by e-mail, whether or not it exists, so the answer reveals nothing), per address across
// accounts, and per account across addresses. Past a threshold the key waits, each further
// wait twice as long up to a maximum. The account-wide count slows only addresses that have
// never signed in to that account: a stranger guessing from elsewhere cannot keep its owner
// out. A success clears the account's counts and remembers the address for 30 days. In
// memory: one node's view.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.h"

namespace nj::account {

struct ThrottleOptions {
  int account_threshold = 5;                 // failures before an account waits, from that address
  int address_threshold = 50;                // failures before a client address waits
  int account_wide_threshold = 20;           // failures before an account waits, from new addresses
  int64_t base_lock_ms = 30'000;             // first lock
  int64_t max_lock_ms = 900'000;             // longest lock
  int64_t forget_after_ms = 3'600'000;       // failures older than this are forgotten
  int64_t known_for_ms = 30LL * 86'400'000;  // an address that signed in, remembered
};

class LoginThrottle {
 public:
  LoginThrottle(const Clock& clock, ThrottleOptions options) : clock_(clock), options_(options) {}

  // Milliseconds until the account or address may try again; 0 if allowed now.
  int64_t retry_after_ms(const std::string& account, const std::string& address);
  void record_failure(const std::string& account, const std::string& address);
  void record_success(const std::string& account, const std::string& address);

 private:
  struct Entry {
    int failures = 0;
    int locks = 0;  // how many times locked: the next lock is 2^locks × base
    int64_t locked_until = 0;
    int64_t last_failure = 0;
  };
  void fail(std::unordered_map<std::string, Entry>& map, const std::string& key, int threshold,
            int64_t now);
  int64_t remaining(std::unordered_map<std::string, Entry>& map, const std::string& key,
                    int64_t now);
  void prune(int64_t now);

  const Clock& clock_;
  ThrottleOptions options_;
  std::mutex mu_;
  // pairs_: account "\n" address; accounts_: across addresses; known_: account "\n"
  // address → when it last signed in.
  std::unordered_map<std::string, Entry> pairs_, accounts_, addresses_;
  std::unordered_map<std::string, int64_t> known_;
  int64_t last_prune_ = 0;
};

}  // namespace nj::account
