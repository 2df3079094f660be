// IANA time zones, read from the system's TZif files (RFC 8536), so a schedule set in a
// person's own hours ("privacy mode 22:00–07:00, Europe/Berlin") follows their clock through
// daylight saving time. g++ 12 has no std::chrono::tzdb; this is the part of it we need.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace nj {

// A POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3"), as TZif files carry in their footer for
// the times after their last transition.
struct PosixTzRule {
  struct Date {
    enum class Kind : uint8_t { kJulianNoLeap, kZeroBasedDay, kMonthWeekDay } kind;
    int16_t day = 0;  // Jn: 1–365; n: 0–365; Mm.w.d: d (0 = Sunday)
    int8_t month = 0, week = 0;
    int32_t time_s = 7200;  // local time of the change (may be negative or past 24 h)
  };
  int32_t std_offset_s = 0;  // seconds east of UTC
  std::optional<int32_t> dst_offset_s;
  Date start{}, end{};

  // "" on a string this does not read.
  static std::optional<PosixTzRule> parse(std::string_view text);
  int32_t offset_at(int64_t unix_s) const;
};

class TimeZone {
 public:
  // A zone name as IANA writes it ("Europe/Berlin", "UTC"): letters, digits, "_+-/", no
  // "..", at most 64 characters. Anything else is refused before a file is opened.
  static bool valid_name(std::string_view name);
  // Reads a TZif file's contents (version 1 to 4); nullopt if it is not one.
  static std::optional<TimeZone> from_tzif(std::string_view bytes);
  static TimeZone utc();

  // Seconds east of UTC at a moment.
  int32_t offset_at(int64_t unix_s) const;
  // The moment a local wall-clock time (seconds since 1970-01-01 00:00 local) happens. A time
  // the clocks skip (spring forward) happens when the clock shows it after the skip, one
  // the clocks repeat (fall back) the first time.
  int64_t to_utc(int64_t local_s) const;

 private:
  struct Type {
    int32_t offset_s;
  };
  std::vector<int64_t> transitions_;
  std::vector<uint8_t> transition_types_;
  std::vector<Type> types_;
  std::optional<PosixTzRule> footer_;
};

// Zones by name, loaded once from a directory (the system's /usr/share/zoneinfo) and kept.
class TimeZones {
 public:
  explicit TimeZones(std::string dir = "/usr/share/zoneinfo") : dir_(std::move(dir)) {}
  // nullptr for a name that is not valid or not installed.
  std::shared_ptr<const TimeZone> find(std::string_view name);

 private:
  std::string dir_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const TimeZone>> zones_;
};

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
int64_t days_from_civil(int64_t year, unsigned month, unsigned day);
struct CivilDate {
  int64_t year;
  unsigned month, day;
};
CivilDate civil_from_days(int64_t days);

}  // namespace nj
