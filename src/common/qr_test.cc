#include "common/qr.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <vector>

namespace nj {
namespace {

uint32_t u32(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) |
         (uint32_t(uint8_t(s[at + 2])) << 8) | uint8_t(s[at + 3]);
}

TEST(Qr, PngIsAWellFormedGrayscaleImage) {
  auto png = qr_png("{\"v\":1,\"token\":\"abc\"}", 4);
  ASSERT_TRUE(png);
  ASSERT_EQ(png->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  // IHDR, then IDAT, then IEND, each with a CRC that matches.
  size_t at = 8;
  std::vector<std::string> types;
  std::string idat;
  uint32_t width = 0, height = 0;
  while (at + 12 <= png->size()) {
    const uint32_t length = u32(*png, at);
    const std::string type = png->substr(at + 4, 4);
    const std::string data = png->substr(at + 8, length);
    const uint32_t crc = u32(*png, at + 8 + length);
    const std::string body = type + data;
    EXPECT_EQ(
        crc, crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
    if (type == "IHDR") {
      width = u32(data, 0);
      height = u32(data, 4);
      EXPECT_EQ(data[8], 8);
      EXPECT_EQ(data[9], 0);
    }
    if (type == "IDAT") idat += data;
    types.push_back(type);
    at += 12 + length;
  }
  EXPECT_EQ(at, png->size());
  EXPECT_EQ(types, (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));
  EXPECT_EQ(width, height);
  EXPECT_EQ(width % 4, 0u);
  std::vector<uint8_t> raw(static_cast<size_t>(height) * (width + 1));
  uLongf raw_size = raw.size();
  ASSERT_EQ(
      uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(idat.data()), idat.size()),
      Z_OK);
  EXPECT_EQ(raw_size, raw.size());
  // The quiet zone is white; the finder pattern's corner (module 4,4) is black.
  EXPECT_EQ(raw[1], 255);
  EXPECT_EQ(raw[(4 * 4) * (width + 1) + 1 + 4 * 4], 0);
}

}  // namespace
}  // namespace nj
