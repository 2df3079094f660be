// Secrets the notification channels hand out (webhook signing secrets, home-automation MQTT
// passwords) are derived, not stored: HMAC-SHA-256 of the server's notify key and a label
// that names what the secret is for. A copy of the database alone reveals none of them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nj::notify {

std::string hmac_sha256(std::string_view key, std::string_view message);  // 32 raw bytes
std::string to_hex(std::string_view bytes);
// base64url (no padding) of HMAC-SHA-256(key, label): 43 characters.
std::string derive_secret(const std::vector<uint8_t>& key, std::string_view label);

}  // namespace nj::notify
