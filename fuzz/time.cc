// Fuzz target: time query parameters. Whatever parses must format and parse back equal.
#include "common/time.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto t = nj::parse_time_param(text);
  if (!t) return 0;
  // Years outside 0000–9999 cannot be written in RFC 3339; the round trip holds inside.
  const auto year =
      int(std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(*t)).year());
  if (year < 0 || year > 9999) return 0;
  const auto again = nj::parse_time_param(nj::format_rfc3339(*t));
  if (!again || *again != *t) __builtin_trap();
  return 0;
}
