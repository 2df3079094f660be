#include "common/random.h"

#include <random>

namespace nj {

std::string random_hex_id() {
  std::random_device rd;  // getrandom(2) on Linux
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 4; ++i) {
    uint32_t v = rd();
    for (int j = 0; j < 8; ++j, v >>= 4) out += kHex[v & 0xf];
  }
  return out;
}

}  // namespace nj
