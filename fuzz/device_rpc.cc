// Fuzz target: a device's answer on `rpc/res`, read as the answer to every method the server
// calls. Never throws; a result that is read is canonical JSON that serialises.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "device_protocol/messages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nj::device_protocol;
  auto r = parse_rpc_response(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!r) return 0;
  if (r->id.empty() || r->id.size() > 32) std::abort();
  if (r->error) return 0;
  for (const char* method : {"stream.start", "stream.stop", "config.set", "sd.list", "sd.play",
                             "sd.delete", "sd.format", "sd.stop", "reboot", "unknown"}) {
    auto result = read_rpc_result(method, r->result);
    if (result) {
      if (!result->is_object()) std::abort();
      (void)result->dump();
    }
  }
  return 0;
}
