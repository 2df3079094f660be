// Time on the wire: RFC 3339 UTC with milliseconds ("2026-11-29T10:01:05.123Z"), as
// DESIGN.md asks for every JSON time, and query parameters in RFC 3339 or Unix ms.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nj {

using SystemTime = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

std::string format_rfc3339(SystemTime t);
// The UTC day of a time in Unix milliseconds: "YYYY-MM-DD".
std::string utc_day(int64_t unix_ms);

// Accepts "YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)" (fraction truncated to ms) or an
// integer of Unix milliseconds. nullopt for anything else.
std::optional<SystemTime> parse_time_param(std::string_view text);

}  // namespace nj
