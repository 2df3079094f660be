#include "common/time_zone.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>

namespace nj {
namespace {

constexpr int64_t kHour = 3600;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// glibc's own reading of the same zone, as an independent answer.
int32_t libc_offset(const char* zone, int64_t unix_s) {
  setenv("TZ", zone, 1);
  tzset();
  const std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  localtime_r(&t, &tm);
  return static_cast<int32_t>(tm.tm_gmtoff);
}

TEST(TimeZone, NewYorkChangesItsClocksOnTheRightMomentsOf2026) {
  TimeZones zones;
  auto ny = zones.find("America/New_York");
  ASSERT_NE(ny, nullptr);
  const int64_t spring = 1772953200;  // 2026-03-08T07:00:00Z, 02:00 EST
  const int64_t autumn = 1793512800;  // 2026-11-01T06:00:00Z, 02:00 EDT
  EXPECT_EQ(ny->offset_at(spring - 1), -5 * kHour);
  EXPECT_EQ(ny->offset_at(spring), -4 * kHour);
  EXPECT_EQ(ny->offset_at(autumn - 1), -4 * kHour);
  EXPECT_EQ(ny->offset_at(autumn), -5 * kHour);
  // Past the file's table (2037), the footer's rule goes on: 2040-03-11T07:00:00Z.
  EXPECT_EQ(ny->offset_at(2215062000 - 1), -5 * kHour);
  EXPECT_EQ(ny->offset_at(2215062000), -4 * kHour);
}

TEST(TimeZone, AgreesWithTheCLibraryAcrossZonesAndSeventyYears) {
  TimeZones zones;
  for (const char* name :
       {"Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Asia/Shanghai",
        "America/Santiago", "Pacific/Chatham", "Africa/Casablanca", "Europe/London",
        "America/St_Johns", "Australia/Lord_Howe", "Etc/GMT+5"}) {
    auto zone = zones.find(name);
    ASSERT_NE(zone, nullptr) << name;
    // Every 6 h 17 min from 1990 to 2060: lands on every hour of the day over the years.
    for (int64_t t = 631152000; t < 2840140800; t += 6 * kHour + 17 * 60) {
      ASSERT_EQ(zone->offset_at(t), libc_offset(name, t)) << name << " at " << t;
    }
  }
  unsetenv("TZ");
  tzset();
}

TEST(TimeZone, LocalTimesThatTheClockSkipsOrRepeats) {
  TimeZones zones;
  auto ny = zones.find("America/New_York");
  ASSERT_NE(ny, nullptr);
  const int64_t day = days_from_civil(2026, 3, 8) * 86400;
  // 01:30 is EST; 02:30 does not exist that day and happens when the clock shows 03:30.
  EXPECT_EQ(ny->to_utc(day + 1 * kHour + 1800), day + 6 * kHour + 1800);
  EXPECT_EQ(ny->to_utc(day + 2 * kHour + 1800), day + 7 * kHour + 1800);
  EXPECT_EQ(ny->to_utc(day + 3 * kHour + 1800), day + 7 * kHour + 1800);
  // 01:30 on 1 November happens twice; the first time (EDT) is the one.
  const int64_t back = days_from_civil(2026, 11, 1) * 86400;
  EXPECT_EQ(ny->to_utc(back + 1 * kHour + 1800), back + 5 * kHour + 1800);
  EXPECT_EQ(ny->to_utc(back + 3 * kHour), back + 8 * kHour);
}

TEST(TimeZone, PosixRules) {
  auto berlin = PosixTzRule::parse("CET-1CEST,M3.5.0,M10.5.0/3");
  ASSERT_TRUE(berlin);
  EXPECT_EQ(berlin->std_offset_s, kHour);
  EXPECT_EQ(berlin->dst_offset_s, 2 * kHour);
  // 2050: last Sunday of March is the 27th, of October the 30th.
  const int64_t march = days_from_civil(2050, 3, 27) * 86400 + kHour;  // 01:00 UTC
  EXPECT_EQ(berlin->offset_at(march - 1), kHour);
  EXPECT_EQ(berlin->offset_at(march), 2 * kHour);
  const int64_t october = days_from_civil(2050, 10, 30) * 86400 + kHour;
  EXPECT_EQ(berlin->offset_at(october - 1), 2 * kHour);
  EXPECT_EQ(berlin->offset_at(october), kHour);

  auto fixed = PosixTzRule::parse("<+0530>-5:30");
  ASSERT_TRUE(fixed);
  EXPECT_EQ(fixed->offset_at(0), 5 * kHour + 1800);
  EXPECT_FALSE(fixed->dst_offset_s);
  auto julian = PosixTzRule::parse("EST5EDT,J60/2,300");
  ASSERT_TRUE(julian);

  for (const char* bad : {"", "E5", "EST", "EST5EDT,M13.1.0,M11.1.0", "EST5EDT,M3.6.0,M11.1.0",
                          "EST5EDT,M3.2.7,M11.1.0", "EST5EDT,J0,J5", "EST5EDT,M3.2.0", "EST99",
                          "<+05", "EST5EDT,M3.2.0/200,M11.1.0", "EST5EDT,M3.2.0,M11.1.0x"}) {
    EXPECT_FALSE(PosixTzRule::parse(bad)) << bad;
  }
}

TEST(TimeZone, RefusesNamesThatCouldLeaveTheDirectoryAndFilesThatAreNotZones) {
  for (const char* bad :
       {"", "../etc/passwd", "/etc/passwd", "Europe/../../etc/passwd", "Europe//Berlin", "zone.tab",
        "Europe/Berlin\n", "a b", "Europe/Berlin/"}) {
    EXPECT_FALSE(TimeZone::valid_name(bad)) << bad;
  }
  TimeZones zones;
  EXPECT_EQ(zones.find("../etc/passwd"), nullptr);
  EXPECT_EQ(zones.find("Nowhere/Atlantis"), nullptr);
  EXPECT_EQ(zones.find("Europe"), nullptr);  // a directory
  EXPECT_NE(zones.find("UTC"), nullptr);
  EXPECT_EQ(zones.find("UTC")->offset_at(1800000000), 0);

  // Every cut of a real file is refused or read without reading past its end.
  const std::string berlin = read_file("/usr/share/zoneinfo/Europe/Berlin");
  ASSERT_GT(berlin.size(), 100u);
  for (size_t n = 0; n < berlin.size(); ++n) {
    (void)TimeZone::from_tzif(std::string_view(berlin).substr(0, n));
  }
  EXPECT_TRUE(TimeZone::from_tzif(berlin));
  EXPECT_FALSE(TimeZone::from_tzif("TZif2 not really"));
}

TEST(TimeZone, CivilDays) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2026, 12, 4), 20791);
  const CivilDate d = civil_from_days(20791);
  EXPECT_EQ(d.year, 2026);
  EXPECT_EQ(d.month, 12u);
  EXPECT_EQ(d.day, 4u);
  EXPECT_EQ(civil_from_days(-1).year, 1969);
}

}  // namespace
}  // namespace nj
