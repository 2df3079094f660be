// Fuzz target: a device's `claim` message (a bind token). Never throws.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "device_protocol/messages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nj::device_protocol;
  auto c = parse_claim(std::string_view(reinterpret_cast<const char*>(data), size));
  if (c && (c->token.empty() || c->token.size() > 128)) std::abort();
  return 0;
}
