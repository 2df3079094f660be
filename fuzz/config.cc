// Fuzz target: nightjar.toml. Any bytes give a config or a clear error, never a crash.
#include "app/config.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto config = nj::app::default_config();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto result = nj::app::apply_toml(config, text, "fuzz.toml");
  if (!result && result.error().empty()) __builtin_trap();
  return 0;
}
