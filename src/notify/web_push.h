// Web Push, the cryptography: a message encrypted for one browser (RFC 8291, aes128gcm of
// RFC 8188, one record) and the server's VAPID identity (RFC 8292: an ES256 JWT and its
// public key in the Authorization header). OpenSSL 3; no I/O beyond the key file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace nj::notify::webpush {

// URL-safe base64 without padding, as Web Push writes keys and tokens.
std::string base64url(std::string_view bytes);
std::optional<std::string> from_base64url(std::string_view text);

// The body of a push message for a browser whose subscription keys are ua_public (65 bytes,
// an uncompressed P-256 point) and auth_secret (16 bytes): salt, record size, the server's
// ephemeral public key, then the encrypted record. as_private (32 bytes) and salt (16 bytes)
// are random unless given (the RFC's example, in tests). Plaintexts over 3993 bytes (one
// 4096-byte record) are refused.
Result<std::string, std::string> encrypt(std::string_view plaintext, std::string_view ua_public,
                                         std::string_view auth_secret,
                                         std::optional<std::string_view> as_private = {},
                                         std::optional<std::string_view> salt = {});

// The server's VAPID key pair (P-256), kept in a PEM file readable by its owner only.
class VapidKey {
 public:
  ~VapidKey();
  VapidKey(VapidKey&&) noexcept;
  VapidKey& operator=(VapidKey&&) noexcept;
  // Reads the key, or makes one and writes it (mode 0600) if the file does not exist.
  static Result<VapidKey, std::string> load_or_create(const std::filesystem::path& file);
  // The public key as browsers take it (applicationServerKey): 65 raw bytes.
  const std::string& public_key() const { return public_key_; }
  // "vapid t=<JWT>, k=<public key>" for a push service at `audience` (its origin,
  // "https://host[:port]"), valid until `expires_unix_s`; subject: "mailto:…" or a URL.
  Result<std::string, std::string> authorization(std::string_view audience,
                                                 std::string_view subject,
                                                 int64_t expires_unix_s) const;

 private:
  struct Key;
  explicit VapidKey(std::unique_ptr<Key> key, std::string public_key);
  std::unique_ptr<Key> key_;
  std::string public_key_;
};

}  // namespace nj::notify::webpush
