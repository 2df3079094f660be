// Server keys under DIR/keys/ (32 random bytes per file, mode 0600, made on first use), and
// the small helpers for secrets the device part stores: hashes, random tokens and ids.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace nj::device {

Result<std::vector<uint8_t>, std::string> load_or_create_key(const std::filesystem::path& keys_dir,
                                                             const std::string& name);

// SHA-256 as lower-case hex: how high-entropy secrets and tokens are stored.
std::string sha256_hex(std::string_view text);
// `bytes` random bytes as base64url without padding.
std::string random_token(size_t bytes = 32);
// 16 random bytes as 32 hex digits, for row ids.
std::string random_id();

}  // namespace nj::device
