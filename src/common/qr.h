// QR codes (libqrencode) drawn as SVG, for TOTP enrolment and device provisioning.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nj {

// An SVG image of text as a QR code (error correction M, 4-module quiet zone); nullopt if
// the text does not fit in a QR code.
std::optional<std::string> qr_svg(std::string_view text, int module_px = 4);
// The same as a PNG (8-bit grayscale), for cameras' apps and printing.
std::optional<std::string> qr_png(std::string_view text, int module_px = 6);

}  // namespace nj
