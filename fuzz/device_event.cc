// Fuzz target: a device's `event` message. Never throws; a read event is a short word, a
// state and a score in 0–1.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "device_protocol/messages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nj::device_protocol;
  auto e = parse_event(std::string_view(reinterpret_cast<const char*>(data), size));
  if (e && (!is_word(e->kind, 32) || !(e->score >= 0 && e->score <= 1))) std::abort();
  return 0;
}
