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
  t.record_success("a");
  t.record_failure("a", "ip");
  EXPECT_EQ(t.retry_after_ms("a", "ip"), 0);
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
