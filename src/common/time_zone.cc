#include "common/time_zone.h"

#include <algorithm>
#include <chrono>
#include <fstream>

namespace nj {
namespace {

constexpr int64_t kDay = 86400;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Reads big-endian integers from a TZif body; every read is bounds-checked.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool has(size_t n) const { return bytes_.size() - pos_ >= n; }
  size_t pos() const { return pos_; }
  void skip(size_t n) { pos_ += n; }
  int64_t be(size_t width) {
    uint64_t v = 0;
    for (size_t i = 0; i < width; ++i) v = (v << 8) | static_cast<uint8_t>(bytes_[pos_ + i]);
    pos_ += width;
    if (width == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
    return static_cast<int64_t>(v);
  }
  uint8_t byte() { return static_cast<uint8_t>(bytes_[pos_++]); }
  std::string_view rest() const { return bytes_.substr(pos_); }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

struct Counts {
  uint32_t isut, isstd, leap, time, type, chars;
};

std::optional<Counts> read_header(Reader& r, char& version) {
  if (!r.has(44) || r.rest().substr(0, 4) != "TZif") return std::nullopt;
  r.skip(4);
  version = static_cast<char>(r.byte());
  r.skip(15);
  Counts c{};
  for (uint32_t* field : {&c.isut, &c.isstd, &c.leap, &c.time, &c.type, &c.chars}) {
    *field = static_cast<uint32_t>(r.be(4));
  }
  // RFC 8536 3.1: at least one type; the indicator counts are zero or equal to the types.
  if (c.type == 0 || c.type > 256 || c.chars == 0 || (c.isut != 0 && c.isut != c.type) ||
      (c.isstd != 0 && c.isstd != c.type) || c.time > 100000 || c.leap > 100000) {
    return std::nullopt;
  }
  return c;
}

size_t body_size(const Counts& c, size_t time_width) {
  return c.time * time_width + c.time + c.type * 6 + c.chars + c.leap * (time_width + 4) + c.isstd +
         c.isut;
}

// POSIX TZ pieces. Each advances `s` past what it read.
bool read_name(std::string_view& s) {
  if (!s.empty() && s.front() == '<') {
    const size_t close = s.find('>');
    if (close == std::string_view::npos || close < 4) return false;
    s.remove_prefix(close + 1);
    return true;
  }
  size_t n = 0;
  while (n < s.size() && ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z'))) ++n;
  if (n < 3) return false;
  s.remove_prefix(n);
  return true;
}

std::optional<int> read_number(std::string_view& s, int max) {
  int v = 0;
  size_t n = 0;
  while (n < s.size() && n < 3 && s[n] >= '0' && s[n] <= '9') v = v * 10 + (s[n++] - '0');
  if (n == 0 || v > max) return std::nullopt;
  s.remove_prefix(n);
  return v;
}

// [+-]hh[:mm[:ss]], hours up to `max_hours`; returns seconds.
std::optional<int32_t> read_hms(std::string_view& s, int max_hours) {
  int sign = 1;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    if (s.front() == '-') sign = -1;
    s.remove_prefix(1);
  }
  auto h = read_number(s, max_hours);
  if (!h) return std::nullopt;
  int32_t total = *h * 3600;
  for (int mult : {60, 1}) {
    if (s.empty() || s.front() != ':') break;
    s.remove_prefix(1);
    auto part = read_number(s, 59);
    if (!part) return std::nullopt;
    total += *part * mult;
  }
  return sign * total;
}

std::optional<PosixTzRule::Date> read_date(std::string_view& s) {
  using Kind = PosixTzRule::Date::Kind;
  PosixTzRule::Date d{};
  if (s.empty()) return std::nullopt;
  if (s.front() == 'J') {
    s.remove_prefix(1);
    auto n = read_number(s, 365);
    if (!n || *n < 1) return std::nullopt;
    d.kind = Kind::kJulianNoLeap;
    d.day = static_cast<int16_t>(*n);
  } else if (s.front() == 'M') {
    s.remove_prefix(1);
    auto m = read_number(s, 12);
    if (!m || *m < 1 || s.empty() || s.front() != '.') return std::nullopt;
    s.remove_prefix(1);
    auto w = read_number(s, 5);
    if (!w || *w < 1 || s.empty() || s.front() != '.') return std::nullopt;
    s.remove_prefix(1);
    auto wd = read_number(s, 6);
    if (!wd) return std::nullopt;
    d.kind = Kind::kMonthWeekDay;
    d.month = static_cast<int8_t>(*m);
    d.week = static_cast<int8_t>(*w);
    d.day = static_cast<int16_t>(*wd);
  } else {
    auto n = read_number(s, 365);
    if (!n) return std::nullopt;
    d.kind = Kind::kZeroBasedDay;
    d.day = static_cast<int16_t>(*n);
  }
  d.time_s = 7200;
  if (!s.empty() && s.front() == '/') {
    s.remove_prefix(1);
    auto t = read_hms(s, 167);  // RFC 8536 3.3.1 allows -167 to 167 hours
    if (!t) return std::nullopt;
    d.time_s = *t;
  }
  return d;
}

// The local day (days since 1970) a rule's date falls on in a year.
int64_t rule_day(const PosixTzRule::Date& d, int64_t year) {
  using Kind = PosixTzRule::Date::Kind;
  const int64_t jan1 = days_from_civil(year, 1, 1);
  switch (d.kind) {
    case Kind::kJulianNoLeap:
      return jan1 + d.day - 1 + (is_leap(year) && d.day >= 60 ? 1 : 0);
    case Kind::kZeroBasedDay:
      return jan1 + d.day;
    case Kind::kMonthWeekDay: {
      const int64_t first = days_from_civil(year, d.month, 1);
      const int64_t first_weekday = (first % 7 + 11) % 7;  // 1970-01-01 was a Thursday (4)
      int64_t day = first + (d.day - first_weekday + 7) % 7 + (d.week - 1) * 7;
      const int64_t month_end = first + days_in_month(year, d.month);
      while (day >= month_end) day -= 7;  // week 5 means the last one
      return day;
    }
  }
  return jan1;
}

}  // namespace

int64_t days_from_civil(int64_t year, unsigned month, unsigned day) {
  using namespace std::chrono;
  const sys_days d =
      std::chrono::year(static_cast<int>(year)) / std::chrono::month(month) / std::chrono::day(day);
  return d.time_since_epoch().count();
}

CivilDate civil_from_days(int64_t days) {
  using namespace std::chrono;
  const year_month_day ymd{sys_days{std::chrono::days{days}}};
  return {int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day())};
}

std::optional<PosixTzRule> PosixTzRule::parse(std::string_view s) {
  PosixTzRule rule;
  if (!read_name(s)) return std::nullopt;
  auto std_west = read_hms(s, 24);
  if (!std_west) return std::nullopt;
  rule.std_offset_s = -*std_west;
  if (s.empty()) return rule;
  if (!read_name(s)) return std::nullopt;
  rule.dst_offset_s = rule.std_offset_s + 3600;
  if (!s.empty() && s.front() != ',') {
    auto dst_west = read_hms(s, 24);
    if (!dst_west) return std::nullopt;
    rule.dst_offset_s = -*dst_west;
  }
  // No rule after the DST name: POSIX leaves it to the implementation; the US rules are
  // the customary default.
  if (s.empty()) s = ",M3.2.0,M11.1.0";
  if (s.front() != ',') return std::nullopt;
  s.remove_prefix(1);
  auto start = read_date(s);
  if (!start || s.empty() || s.front() != ',') return std::nullopt;
  s.remove_prefix(1);
  auto end = read_date(s);
  if (!end || !s.empty()) return std::nullopt;
  rule.start = *start;
  rule.end = *end;
  return rule;
}

int32_t PosixTzRule::offset_at(int64_t unix_s) const {
  if (!dst_offset_s) return std_offset_s;
  const int64_t year = civil_from_days(floor_div(unix_s + std_offset_s, kDay)).year;
  // The change to DST happens at a standard-time wall clock, the change back at a DST one.
  const int64_t starts = rule_day(start, year) * kDay + start.time_s - std_offset_s;
  const int64_t ends = rule_day(end, year) * kDay + end.time_s - *dst_offset_s;
  const bool dst = starts < ends ? (unix_s >= starts && unix_s < ends)
                                 : (unix_s < ends || unix_s >= starts);  // southern summer
  return dst ? *dst_offset_s : std_offset_s;
}

bool TimeZone::valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '/' || name.back() == '/' ||
      name.find("..") != std::string_view::npos || name.find("//") != std::string_view::npos) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '+' || c == '-' || c == '/';
  });
}

TimeZone TimeZone::utc() {
  TimeZone z;
  z.types_.push_back({0});
  return z;
}

std::optional<TimeZone> TimeZone::from_tzif(std::string_view bytes) {
  Reader r(bytes);
  char version = 0;
  auto v1 = read_header(r, version);
  if (!v1) return std::nullopt;
  size_t width = 4;
  Counts c = *v1;
  if (version >= '2') {
    // Skip the 32-bit block; the 64-bit one after it says the same with wider times.
    const size_t skip = body_size(*v1, 4);
    if (!r.has(skip)) return std::nullopt;
    r.skip(skip);
    auto v2 = read_header(r, version);
    if (!v2) return std::nullopt;
    c = *v2;
    width = 8;
  } else if (version != 0) {
    return std::nullopt;
  }
  if (!r.has(body_size(c, width))) return std::nullopt;
  TimeZone z;
  z.transitions_.reserve(c.time);
  for (uint32_t i = 0; i < c.time; ++i) {
    const int64_t t = r.be(width);
    if (!z.transitions_.empty() && t <= z.transitions_.back()) return std::nullopt;
    z.transitions_.push_back(t);
  }
  for (uint32_t i = 0; i < c.time; ++i) {
    const uint8_t type = r.byte();
    if (type >= c.type) return std::nullopt;
    z.transition_types_.push_back(type);
  }
  for (uint32_t i = 0; i < c.type; ++i) {
    const int64_t offset = r.be(4);
    r.skip(2);  // isdst, designation index: not needed to tell the time
    if (offset < -89999 || offset > 93599) return std::nullopt;  // RFC 8536: -25h..26h
    z.types_.push_back({static_cast<int32_t>(offset)});
  }
  r.skip(c.chars + c.leap * (width + 4) + c.isstd + c.isut);
  if (width == 8) {
    // The footer: "\n" POSIX-TZ "\n". An empty one means no rule past the last transition.
    std::string_view rest = r.rest();
    if (rest.size() < 2 || rest.front() != '\n') return std::nullopt;
    const size_t close = rest.find('\n', 1);
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view tz = rest.substr(1, close - 1);
    if (!tz.empty()) {
      z.footer_ = PosixTzRule::parse(tz);
      if (!z.footer_) return std::nullopt;
    }
  }
  return z;
}

int32_t TimeZone::offset_at(int64_t unix_s) const {
  if (transitions_.empty() || unix_s < transitions_.front()) {
    if (transitions_.empty() && footer_) return footer_->offset_at(unix_s);
    return types_.front().offset_s;
  }
  if (unix_s >= transitions_.back() && footer_) return footer_->offset_at(unix_s);
  const auto it = std::upper_bound(transitions_.begin(), transitions_.end(), unix_s);
  const size_t index = static_cast<size_t>(std::distance(transitions_.begin(), it)) - 1;
  return types_[transition_types_[index]].offset_s;
}

int64_t TimeZone::to_utc(int64_t local_s) const {
  // The offsets a day either side; no zone changes its clocks twice within two days.
  const int32_t before = offset_at(local_s - kDay);
  const int32_t after = offset_at(local_s + kDay);
  const int64_t first = local_s - before;
  if (offset_at(first) == before) return first;  // also the first of a repeated hour
  const int64_t second = local_s - after;
  if (offset_at(second) == after) return second;
  return first;  // in the skipped hour: the clock shows it only after the skip
}

std::shared_ptr<const TimeZone> TimeZones::find(std::string_view name) {
  if (!TimeZone::valid_name(name)) return nullptr;
  std::lock_guard lock(mutex_);
  const std::string key(name);
  if (auto it = zones_.find(key); it != zones_.end()) return it->second;
  std::shared_ptr<const TimeZone> zone;
  if (name == "UTC") {
    zone = std::make_shared<const TimeZone>(TimeZone::utc());
  } else {
    // TZif files are a few kilobytes; a read stops at 1 MiB whatever lies there.
    std::ifstream in(dir_ + "/" + key, std::ios::binary);
    std::string bytes(1 << 20, '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    bytes.resize(static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0)));
    if (auto z = TimeZone::from_tzif(bytes)) zone = std::make_shared<const TimeZone>(*z);
  }
  // Names that are not installed are not remembered: the map holds only real zones.
  if (zone) zones_.emplace(key, zone);
  return zone;
}

}  // namespace nj
