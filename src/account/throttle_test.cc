#include "account/throttle.h"

#include <gtest/gtest.h>

namespace nj::account {
namespace {

TEST(Throttle, LocksAfterThresholdAndDoublesEachTime) {
  ManualClock clock(1'000'000);
  LoginThrottle t(clock, {.account_threshold = 3,
                          .address_threshold = 100,
                          .base_lock_ms = 1000,
                          .max_lock_ms = 3000,
                          .forget_after_ms = 60'000});
  for (int i = 0; i < 2; ++i) t.record_failure("a@x", "1.1.1.1");
  EXPECT_EQ(t.retry_after_ms("a@x", "1.1.1.1"), 0);
  t.record_failure("a@x", "1.1.1.1");
  EXPECT_EQ(t.retry_after_ms("a@x", "1.1.1.1"), 1000);
  EXPECT_EQ(t.retry_after_ms("b@x", "2.2.2.2"), 0) << "other accounts are not affected";
  clock.advance_ms(1000);
  EXPECT_EQ(t.retry_after_ms("a@x", "1.1.1.1"), 0) << "the lock releases";
  for (int i = 0; i < 3; ++i) t.record_failure("a@x", "1.1.1.1");
  EXPECT_EQ(t.retry_after_ms("a@x", "1.1.1.1"), 2000) << "the second lock is twice as long";
  clock.advance_ms(2000);
  for (int i = 0; i < 3; ++i) t.record_failure("a@x", "1.1.1.1");
  EXPECT_EQ(t.retry_after_ms("a@x", "1.1.1.1"), 3000) << "capped at the maximum";
}

TEST(Throttle, SuccessClearsTheAccount) {
  ManualClock clock(0);
  LoginThrottle t(clock, {.account_threshold = 3});
  t.record_failure("a", "ip");
  t.record_failure("a", "ip");
  t.record_success("a", "ip");
  t.record_failure("a", "ip");
  EXPECT_EQ(t.retry_after_ms("a", "ip"), 0);
}

// ASVS 2.2.1: a stranger guessing the owner's password from elsewhere slows only
// themselves; the owner, at an address they signed in from before, is never kept out.
TEST(Throttle, AStrangerCannotLockTheOwnerOut) {
  ManualClock clock(0);
  LoginThrottle t(clock, {.account_threshold = 5,
                          .address_threshold = 50,
                          .account_wide_threshold = 20,
                          .base_lock_ms = 30'000});
  t.record_success("owner@x", "home");
  for (int i = 0; i < 5; ++i) t.record_failure("owner@x", "attacker");
  EXPECT_EQ(t.retry_after_ms("owner@x", "attacker"), 30'000) << "the guesser waits";
  EXPECT_EQ(t.retry_after_ms("owner@x", "home"), 0) << "the owner does not";
  EXPECT_EQ(t.retry_after_ms("owner@x", "cafe"), 0) << "nor from a new address, yet";
  // Guessing from many addresses: new addresses wait too, the owner's known one does not.
  for (int a = 0; a < 4; ++a) {
    for (int i = 0; i < 5; ++i) t.record_failure("owner@x", "bot" + std::to_string(a));
  }
  EXPECT_GT(t.retry_after_ms("owner@x", "cafe"), 0);
  EXPECT_EQ(t.retry_after_ms("owner@x", "home"), 0);
  // The owner's own mistakes at home slow them like anyone, and only for a while.
  for (int i = 0; i < 5; ++i) t.record_failure("owner@x", "home");
  EXPECT_EQ(t.retry_after_ms("owner@x", "home"), 30'000);
  clock.advance_ms(30'000);
  EXPECT_EQ(t.retry_after_ms("owner@x", "home"), 0);
}

TEST(Throttle, AddressIsLockedAcrossManyAccounts) {
  ManualClock clock(0);
  LoginThrottle t(clock, {.account_threshold = 5, .address_threshold = 10, .base_lock_ms = 5000});
  for (int i = 0; i < 10; ++i) t.record_failure("user" + std::to_string(i), "9.9.9.9");
  EXPECT_EQ(t.retry_after_ms("someone-new", "9.9.9.9"), 5000);
  EXPECT_EQ(t.retry_after_ms("someone-new", "8.8.8.8"), 0);
}

}  // namespace
}  // namespace nj::account
