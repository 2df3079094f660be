// Fuzz target: a SoftAP provisioning request (what anyone on the camera's hotspot may post).
// Never throws; a read request has a bounded payload and a 64-digit proof, which is checked.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "device_protocol/provision.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nj::device_protocol;
  auto r = parse_provision_request(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!r) return 0;
  if (r->proof.size() != 64 || r->payload.size() > kMaxProvisionBytes) std::abort();
  (void)proof_matches("ABCD-EFGH", r->payload, r->proof);
  return 0;
}
