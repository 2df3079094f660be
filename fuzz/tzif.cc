// Fuzz target: TZif files (RFC 8536) with their POSIX TZ footer. The zone files are the
// system's, but a reader that trusted their bytes could read past a truncated one.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/time_zone.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto rule = nj::PosixTzRule::parse(bytes)) (void)rule->offset_at(1'800'000'000);
  auto zone = nj::TimeZone::from_tzif(bytes);
  if (!zone) return 0;
  for (int64_t t :
       {int64_t{-2'000'000'000}, int64_t{0}, int64_t{1'800'000'000}, int64_t{4'000'000'000}}) {
    const int32_t offset = zone->offset_at(t);
    if (offset < -26 * 3600 || offset > 26 * 3600) __builtin_trap();
    (void)zone->to_utc(t);
  }
  return 0;
}
