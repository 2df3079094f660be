// Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP), as authenticator apps use
// them: HMAC-SHA1 (default), SHA-256 or SHA-512, 30 s steps, 6 digits; base32 secrets and
// otpauth:// URIs for the enrolment QR code.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nj::account {

enum class TotpAlgorithm { kSha1, kSha256, kSha512 };

std::vector<uint8_t> sha1(std::span<const uint8_t> data);
std::vector<uint8_t> hmac(TotpAlgorithm algorithm, std::span<const uint8_t> key,
                          std::span<const uint8_t> message);

// RFC 4226: the code for one counter value, `digits` long (zero-padded).
std::string hotp(std::span<const uint8_t> key, uint64_t counter, int digits = 6,
                 TotpAlgorithm algorithm = TotpAlgorithm::kSha1);

// The 30-second step a Unix time falls in.
inline uint64_t totp_step(int64_t unix_seconds, int period = 30) {
  return static_cast<uint64_t>(unix_seconds / period);
}

// Checks code against the steps around now (±window, for clock drift) and returns the
// matching step, so the caller can refuse that step (and earlier ones) next time.
std::optional<uint64_t> totp_match(std::span<const uint8_t> key, std::string_view code,
                                   int64_t unix_seconds, int window = 1);

std::string base32_encode(std::span<const uint8_t> data);  // RFC 4648, no padding
std::optional<std::vector<uint8_t>> base32_decode(std::string_view text);

// otpauth://totp/Issuer:account?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30
std::string otpauth_uri(std::string_view issuer, std::string_view account,
                        std::span<const uint8_t> secret);

}  // namespace nj::account
