// Small cryptographic helpers for accounts: random tokens, hashing of stored secrets,
// constant-time comparison, encodings. libsodium underneath (sodium_init is called once).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nj::account {

// Initialises libsodium; safe to call many times. False if the library cannot start.
bool crypto_init();

// n random bytes from the OS CSPRNG.
std::vector<uint8_t> random_bytes(size_t n);
// An opaque token of `bytes` random bytes, base64url without padding (32 bytes → 43 chars).
std::string random_token(size_t bytes = 32);
// A random id for database rows: 16 random bytes as 32 lower-case hex digits.
std::string random_id();

// SHA-256 as lower-case hex: how session and e-mail tokens are stored (never in clear).
std::string sha256_hex(std::string_view data);
std::vector<uint8_t> sha256(std::span<const uint8_t> data);
std::vector<uint8_t> sha512(std::span<const uint8_t> data);

// Constant-time equality of two strings (different lengths compare unequal at once).
bool constant_time_equal(std::string_view a, std::string_view b);

std::string base64url_encode(std::span<const uint8_t> data);
std::string hex_encode(std::span<const uint8_t> data);

}  // namespace nj::account
