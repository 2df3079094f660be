#include "notify/secrets.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "notify/web_push.h"

namespace nj::notify {

std::string hmac_sha256(std::string_view key, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &size);
  return std::string(reinterpret_cast<const char*>(mac), size);
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string derive_secret(const std::vector<uint8_t>& key, std::string_view label) {
  return webpush::base64url(
      hmac_sha256(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()), label));
}

}  // namespace nj::notify
