#include "common/time.h"

#include <gtest/gtest.h>

namespace nj {
namespace {

using std::chrono::milliseconds;

TEST(Time, FormatsRfc3339WithMilliseconds) {
  EXPECT_EQ(format_rfc3339(SystemTime(milliseconds(0))), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339(SystemTime(milliseconds(1795947665123))), "2026-11-29T10:21:05.123Z");
}

TEST(Time, ParsesRfc3339AndUnixMilliseconds) {
  EXPECT_EQ(parse_time_param("2026-11-29T10:21:05.123Z")->time_since_epoch().count(),
            1795947665123);
  EXPECT_EQ(parse_time_param("2026-11-29T18:21:05.123456+08:00")->time_since_epoch().count(),
            1795947665123);
  EXPECT_EQ(parse_time_param("2026-11-29T10:21:05Z")->time_since_epoch().count(), 1795947665000);
  EXPECT_EQ(parse_time_param("1795947665123")->time_since_epoch().count(), 1795947665123);
}

TEST(Time, RejectsMalformed) {
  for (const char* bad :
       {"", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-29 10:21:05Z",
        "2026-11-29T10:21:05", "2026-11-29T10:21:05.Z", "2026-11-29T10:21:05Zjunk", "12ab",
        "99999999999999999999999", "2026-11-29T25:00:00Z"}) {
    EXPECT_FALSE(parse_time_param(bad).has_value()) << bad;
  }
}

TEST(Time, RoundTrips) {
  const SystemTime t(milliseconds(1700000000999));
  EXPECT_EQ(parse_time_param(format_rfc3339(t)), t);
}

TEST(Time, UtcDay) {
  EXPECT_EQ(utc_day(0), "1970-01-01");
  EXPECT_EQ(utc_day(1'795'000'000'000), "2026-11-18");
  EXPECT_EQ(utc_day(1'795'046'399'999), "2026-11-18") << "the last millisecond of the day";
  EXPECT_EQ(utc_day(1'795'046'400'000), "2026-11-19");
}

}  // namespace
}  // namespace nj
