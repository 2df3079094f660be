#include "common/qr.h"

#include <qrencode.h>
#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

namespace nj {

std::optional<std::string> qr_svg(std::string_view text, int module_px) {
  const std::string input(text);
  QRcode* code = QRcode_encodeString8bit(input.c_str(), 0, QR_ECLEVEL_M);
  if (!code) return std::nullopt;
  const int quiet = 4;
  const int size = (code->width + 2 * quiet) * module_px;
  std::string path;
  for (int y = 0; y < code->width; ++y) {
    for (int x = 0; x < code->width; ++x) {
      if (code->data[y * code->width + x] & 1) {
        path += "M" + std::to_string((x + quiet) * module_px) + " " +
                std::to_string((y + quiet) * module_px) + "h" + std::to_string(module_px) + "v" +
                std::to_string(module_px) + "h-" + std::to_string(module_px) + "z";
      }
    }
  }
  QRcode_free(code);
  const auto s = std::to_string(size);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + s + "\" height=\"" + s +
         "\" viewBox=\"0 0 " + s + " " + s + "\" shape-rendering=\"crispEdges\">" +
         "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path fill=\"#000\" d=\"" + path +
         "\"/></svg>";
}

namespace {

void put_u32(std::string& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out += static_cast<char>((v >> s) & 0xff);
}

// A PNG chunk: length, type, data, CRC over type and data.
void chunk(std::string& out, const char* type, const std::string& data) {
  put_u32(out, static_cast<uint32_t>(data.size()));
  const std::string body = std::string(type, 4) + data;
  out += body;
  put_u32(out, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()),
                                           static_cast<uInt>(body.size()))));
}

}  // namespace

std::optional<std::string> qr_png(std::string_view text, int module_px) {
  const std::string input(text);
  QRcode* code = QRcode_encodeString8bit(input.c_str(), 0, QR_ECLEVEL_M);
  if (!code) return std::nullopt;
  const int quiet = 4;
  const int modules = code->width + 2 * quiet;
  const int size = modules * module_px;
  // Scanlines: a filter byte (0, none) then a byte per pixel; dark modules are 0.
  std::vector<uint8_t> raw;
  raw.reserve(static_cast<size_t>(size) * (size + 1));
  for (int y = 0; y < size; ++y) {
    raw.push_back(0);
    const int my = y / module_px - quiet;
    for (int x = 0; x < size; ++x) {
      const int mx = x / module_px - quiet;
      const bool dark = mx >= 0 && my >= 0 && mx < code->width && my < code->width &&
                        (code->data[my * code->width + mx] & 1);
      raw.push_back(dark ? 0 : 255);
    }
  }
  QRcode_free(code);
  uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
  std::string packed(packed_size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size, raw.data(),
                static_cast<uLong>(raw.size()), 9) != Z_OK) {
    return std::nullopt;
  }
  packed.resize(packed_size);
  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string header;
  put_u32(header, static_cast<uint32_t>(size));
  put_u32(header, static_cast<uint32_t>(size));
  header += '\x08';                // 8 bits per sample
  header += '\x00';                // grayscale
  header += std::string(3, '\0');  // deflate, adaptive filtering, no interlace
  chunk(png, "IHDR", header);
  chunk(png, "IDAT", packed);
  chunk(png, "IEND", "");
  return png;
}

}  // namespace nj
