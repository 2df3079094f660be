#include "mail/rate_limit.h"

#include <gtest/gtest.h>

namespace nj::mail {
namespace {

TEST(MailRateLimiter, EveryKeyMustHaveRoomAndEachCounts) {
  ManualClock clock(1'000'000);
  MailRateLimiter limiter(clock, {{{"ip:", 3, 60'000}, {"to:", 2, 60'000}}});
  EXPECT_EQ(limiter.take({"ip:1", "to:a@x"}), 0);
  EXPECT_EQ(limiter.take({"ip:1", "to:a@x"}), 0);
  clock.advance_ms(10'000);
  EXPECT_EQ(limiter.take({"ip:2", "to:a@x"}), 50'000) << "a@x had two: wait for the oldest";
  EXPECT_EQ(limiter.take({"ip:1", "to:b@x"}), 0) << "a refused mail counted nothing";
  EXPECT_EQ(limiter.take({"ip:1", "to:c@x"}), 50'000) << "address 1 had three";
  EXPECT_EQ(limiter.take({"ip:3", "to:c@x", "other:1"}), 0) << "keys without a rule are free";
  clock.advance_ms(50'000);
  EXPECT_EQ(limiter.take({"ip:2", "to:a@x"}), 0) << "the window moved on";
}

}  // namespace
}  // namespace nj::mail
