#include "media/codec/h265_sps.h"

#include <cstdio>

#include "media/codec/bit_reader.h"
#include "media/codec/h264_sps.h"

namespace nj::media::codec {

std::string H265Sps::codec_string() const {
  std::string out = "hvc1.";
  if (profile_space() > 0) out += static_cast<char>('A' + profile_space() - 1);
  out += std::to_string(profile_idc());
  // The compatibility flags in reverse bit order, in hex.
  const uint32_t flags = (uint32_t{general_ptl[1]} << 24) | (uint32_t{general_ptl[2]} << 16) |
                         (uint32_t{general_ptl[3]} << 8) | general_ptl[4];
  uint32_t reversed = 0;
  for (int i = 0; i < 32; ++i) reversed |= ((flags >> i) & 1) << (31 - i);
  char buf[16];
  std::snprintf(buf, sizeof buf, ".%X", reversed);
  out += buf;
  out += tier() ? ".H" : ".L";
  out += std::to_string(level_idc());
  // The six constraint bytes, trailing zero bytes left out.
  int last = 10;
  while (last >= 5 && general_ptl[last] == 0) --last;
  for (int i = 5; i <= last; ++i) {
    std::snprintf(buf, sizeof buf, ".%X", general_ptl[i]);
    out += buf;
  }
  return out;
}

std::optional<H265Sps> parse_h265_sps(std::span<const uint8_t> nal) {
  if (nal.size() < 3 || ((nal[0] >> 1) & 0x3f) != 33) return std::nullopt;
  const auto rbsp = unescape_rbsp(nal.subspan(2));
  if (rbsp.size() < 13) return std::nullopt;
  H265Sps sps;
  BitReader r(rbsp);
  r.bits(4);  // sps_video_parameter_set_id
  sps.max_sub_layers = static_cast<uint8_t>(r.bits(3) + 1);
  sps.temporal_id_nested = r.bits(1);
  for (int i = 0; i < 12; ++i) sps.general_ptl[i] = static_cast<uint8_t>(r.bits(8));
  const int sub_layers = sps.max_sub_layers - 1;
  bool profile_present[8] = {}, level_present[8] = {};
  for (int i = 0; i < sub_layers; ++i) {
    profile_present[i] = r.bits(1);
    level_present[i] = r.bits(1);
  }
  if (sub_layers > 0) {
    for (int i = sub_layers; i < 8; ++i) r.bits(2);
  }
  for (int i = 0; i < sub_layers; ++i) {
    if (profile_present[i]) {
      r.bits(32);
      r.bits(32);
      r.bits(24);  // 88 bits of sub-layer profile
    }
    if (level_present[i]) r.bits(8);
  }
  if (r.ue() > 15) return std::nullopt;  // sps_seq_parameter_set_id
  sps.chroma_format_idc = static_cast<uint8_t>(r.ue());
  if (sps.chroma_format_idc > 3) return std::nullopt;
  if (sps.chroma_format_idc == 3) r.bits(1);  // separate_colour_plane_flag
  uint32_t width = r.ue(), height = r.ue();
  if (r.bits(1)) {  // conformance window
    const uint32_t sub_w = sps.chroma_format_idc == 1 || sps.chroma_format_idc == 2 ? 2 : 1;
    const uint32_t sub_h = sps.chroma_format_idc == 1 ? 2 : 1;
    const uint32_t left = r.ue(), right = r.ue(), top = r.ue(), bottom = r.ue();
    const uint64_t crop_w = uint64_t{sub_w} * (uint64_t{left} + right);
    const uint64_t crop_h = uint64_t{sub_h} * (uint64_t{top} + bottom);
    if (crop_w >= width || crop_h >= height) return std::nullopt;
    width -= static_cast<uint32_t>(crop_w);
    height -= static_cast<uint32_t>(crop_h);
  }
  sps.bit_depth_luma = static_cast<uint8_t>(r.ue() + 8);
  sps.bit_depth_chroma = static_cast<uint8_t>(r.ue() + 8);
  if (r.failed() || width == 0 || height == 0 || width > 16384 || height > 16384 ||
      sps.bit_depth_luma > 16 || sps.bit_depth_chroma > 16) {
    return std::nullopt;
  }
  sps.width = width;
  sps.height = height;
  return sps;
}

}  // namespace nj::media::codec
