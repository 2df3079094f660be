// Server keys under DIR/keys/: 32 random bytes per file, mode 0600, made on first use.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"

namespace nj::device {

Result<std::vector<uint8_t>, std::string> load_or_create_key(const std::filesystem::path& keys_dir,
                                                             const std::string& name);

}  // namespace nj::device
