// SoftAP provisioning, both ends: while the phone is on the camera's hotspot, the app posts
// the QR payload to the camera together with a proof that it knows the pairing code printed
// on the camera's label — HMAC-SHA-256 keyed by the code over the exact payload text. The
// camera takes a payload only with a proof that matches its own code, so a stranger on the
// hotspot cannot point it at another cloud (docs/architecture.md, "Ways in for a camera").
#pragma once

#include <string>
#include <string_view>

#include "device_protocol/json_input.h"

namespace nj::device_protocol {

inline constexpr size_t kMaxProvisionBytes = 4096;

// A pairing code as typed from a label, in its canonical form (the key of the proof, and
// what the server compares): upper case, no separators, O→0 and I/L→1 (Crockford).
std::string normalize_pairing_code(std::string_view code);
// Lower-case hex of HMAC-SHA-256(normalized code, payload).
std::string provision_proof(std::string_view pairing_code, std::string_view payload);
// Constant-time: does `proof` match the payload under this code?
bool proof_matches(std::string_view pairing_code, std::string_view payload, std::string_view proof);

// POST /provision: {"payload": "<the QR payload text>", "proof": "<64 hex>"}.
struct ProvisionRequest {
  std::string payload;
  std::string proof;
};
Parsed<ProvisionRequest> parse_provision_request(std::string_view body);

}  // namespace nj::device_protocol
