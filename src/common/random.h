// Random identifiers from the OS's CSPRNG.
#pragma once

#include <string>

namespace nj {

// 128 random bits as 32 lower-case hex digits.
std::string random_hex_id();

}  // namespace nj
