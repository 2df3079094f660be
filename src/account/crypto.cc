#include "account/crypto.h"

#include <sodium.h>

namespace nj::account {

bool crypto_init() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

std::vector<uint8_t> random_bytes(size_t n) {
  crypto_init();
  std::vector<uint8_t> out(n);
  randombytes_buf(out.data(), out.size());
  return out;
}

std::string random_token(size_t bytes) { return base64url_encode(random_bytes(bytes)); }

std::string random_id() { return hex_encode(random_bytes(16)); }

std::vector<uint8_t> sha256(std::span<const uint8_t> data) {
  std::vector<uint8_t> out(crypto_hash_sha256_BYTES);
  crypto_hash_sha256(out.data(), data.data(), data.size());
  return out;
}

std::vector<uint8_t> sha512(std::span<const uint8_t> data) {
  std::vector<uint8_t> out(crypto_hash_sha512_BYTES);
  crypto_hash_sha512(out.data(), data.data(), data.size());
  return out;
}

std::string sha256_hex(std::string_view data) {
  return hex_encode(sha256({reinterpret_cast<const uint8_t*>(data.data()), data.size()}));
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return a.empty() || sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string base64url_encode(std::span<const uint8_t> data) {
  std::string out(sodium_base64_encoded_len(data.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                  '\0');
  sodium_bin2base64(out.data(), out.size(), data.data(), data.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::string hex_encode(std::span<const uint8_t> data) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (uint8_t b : data) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

}  // namespace nj::account
