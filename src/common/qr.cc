#include "common/qr.h"

#include <qrencode.h>

#include <string>

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

}  // namespace nj
