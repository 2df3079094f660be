// Fuzz target: a device's `state` message. Never throws; what is read is within bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "device_protocol/messages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nj::device_protocol;
  auto s = parse_state(std::string_view(reinterpret_cast<const char*>(data), size));
  if (s && (s->ip.size() > 64 || s->firmware.size() > 64)) std::abort();
  return 0;
}
