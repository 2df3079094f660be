#include "device_protocol/provision.h"

#include <sodium.h>

#include <cctype>

namespace nj::device_protocol {

std::string normalize_pairing_code(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c == '-' || c == ' ') continue;
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (c == 'O') c = '0';  // Crockford base32: the letters people confuse with digits
    if (c == 'I' || c == 'L') c = '1';
    out += c;
  }
  return out;
}

std::string provision_proof(std::string_view pairing_code, std::string_view payload) {
  // Idempotent; HMAC needs no randomness, but the library asks to be set up first.
  if (sodium_init() < 0) return std::string(64, '!');  // matches no proof
  const std::string key = normalize_pairing_code(pairing_code);
  uint8_t mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const uint8_t*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const uint8_t*>(payload.data()),
                                payload.size());
  crypto_auth_hmacsha256_final(&st, mac);
  std::string hex(sizeof(mac) * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), mac, sizeof(mac));
  hex.pop_back();
  return hex;
}

bool proof_matches(std::string_view pairing_code, std::string_view payload,
                   std::string_view proof) {
  const auto expected = provision_proof(pairing_code, payload);
  return proof.size() == expected.size() &&
         sodium_memcmp(proof.data(), expected.data(), expected.size()) == 0;
}

Parsed<ProvisionRequest> parse_provision_request(std::string_view body) {
  auto j = parse_json(body, {kMaxProvisionBytes, 4});
  if (!j) return Unexpected(std::move(j).error());
  ObjectReader r(*j);
  auto payload = r.string("payload", kMaxProvisionBytes, true);
  auto proof = r.string("proof", 64, true);
  if (!r.ok()) return Unexpected(*r.error());
  if (proof->size() != 64) {
    return Unexpected(InputError{Reason::kOutOfRange, "proof", "the proof is 64 hex digits"});
  }
  return ProvisionRequest{std::move(*payload), std::move(*proof)};
}

}  // namespace nj::device_protocol
