// Fuzz target: a privacy schedule or quiet hours as a browser sends them (JSON). What is
// accepted must write back to what reads the same, and following it must not fail.
#include "device/privacy_schedule.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/time_zone.h"
#include "device_protocol/json_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto j = nj::device_protocol::parse_json(text, {16 * 1024, 6});
  if (!j) return 0;
  auto schedule = nj::device::read_privacy_schedule(*j);
  if (!schedule) return 0;
  auto again = nj::device::read_privacy_schedule(nj::device::to_json(*schedule));
  if (!again || nj::device::to_json(*again) != nj::device::to_json(*schedule)) __builtin_trap();
  const auto utc = nj::TimeZone::utc();
  const int64_t now = 1'796'000'000'000;
  const auto edge = nj::device::last_edge(*schedule, utc, now);
  if (edge.at_ms > now) __builtin_trap();
  if (auto next = nj::device::next_edge(*schedule, utc, now); next && next->at_ms <= now) {
    __builtin_trap();
  }
  return 0;
}
