// What the containers need from an H.264 sequence parameter set (ITU-T H.264 §7.3.2.1):
// profile, level and the displayed picture size after cropping.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace nj::media::codec {

struct H264Sps {
  uint8_t profile_idc = 0;
  uint8_t constraint_flags = 0;
  uint8_t level_idc = 0;
  uint32_t width = 0;
  uint32_t height = 0;
  // The RFC 6381 codec string MSE and HLS use, e.g. "avc1.64001f".
  std::string codec_string() const;
};

// The NAL unit payload without emulation-prevention bytes (00 00 03 → 00 00).
std::vector<uint8_t> unescape_rbsp(std::span<const uint8_t> nal);

// Parses an SPS NAL unit (with its one-byte header); nullopt if malformed.
std::optional<H264Sps> parse_h264_sps(std::span<const uint8_t> nal);

}  // namespace nj::media::codec
