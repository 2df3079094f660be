// What the containers need from an H.265 sequence parameter set (ITU-T H.265 §7.3.2.2):
// the general profile, tier and level (for hvcC and the codec string), chroma format, bit
// depths and the displayed picture size after the conformance window.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace nj::media::codec {

struct H265Sps {
  // general_profile_space … general_level_idc as they appear in the SPS: 12 bytes, which
  // hvcC repeats as they are.
  std::array<uint8_t, 12> general_ptl{};
  uint8_t profile_space() const { return general_ptl[0] >> 6; }
  bool tier() const { return general_ptl[0] & 0x20; }
  uint8_t profile_idc() const { return general_ptl[0] & 0x1f; }
  uint8_t level_idc() const { return general_ptl[11]; }
  uint8_t max_sub_layers = 1;
  bool temporal_id_nested = false;
  uint8_t chroma_format_idc = 1;
  uint8_t bit_depth_luma = 8, bit_depth_chroma = 8;
  uint32_t width = 0, height = 0;
  // The RFC 6381 / ISO/IEC 14496-15 codec string, e.g. "hvc1.1.6.L93.B0".
  std::string codec_string() const;
};

// Parses an SPS NAL unit (with its two-byte header); nullopt if malformed.
std::optional<H265Sps> parse_h265_sps(std::span<const uint8_t> nal);

}  // namespace nj::media::codec
