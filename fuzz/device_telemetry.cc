// Fuzz target: a device's `telemetry` message. Never throws; counters stay within bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "device_protocol/messages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nj::device_protocol;
  auto t = parse_telemetry(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!t) return 0;
  if (t->bytes_sent && *t->bytes_sent > kMaxBytesPerReport) std::abort();
  if (t->sd && (t->sd->used_bytes > t->sd->capacity_bytes || t->sd->capacity_bytes > kMaxCardBytes))
    std::abort();
  if (t->sd) (void)to_json(*t->sd).dump();
  return 0;
}
