#include "media/codec/h264_sps.h"

#include <cstdio>

#include "media/codec/bit_reader.h"

namespace nj::media::codec {
namespace {

void skip_scaling_list(BitReader& r, int size) {
  int last = 8, next = 8;
  for (int j = 0; j < size && !r.failed(); ++j) {
    if (next != 0) next = (last + r.se() + 256) % 256;
    last = next == 0 ? last : next;
  }
}

}  // namespace

std::string H264Sps::codec_string() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "avc1.%02x%02x%02x", profile_idc, constraint_flags, level_idc);
  return buf;
}

std::vector<uint8_t> unescape_rbsp(std::span<const uint8_t> nal) {
  std::vector<uint8_t> out;
  out.reserve(nal.size());
  int zeros = 0;
  for (uint8_t b : nal) {
    if (zeros >= 2 && b == 3) {
      zeros = 0;
      continue;
    }
    zeros = b == 0 ? zeros + 1 : 0;
    out.push_back(b);
  }
  return out;
}

std::optional<H264Sps> parse_h264_sps(std::span<const uint8_t> nal) {
  if (nal.size() < 4 || (nal[0] & 0x1f) != 7) return std::nullopt;
  const auto rbsp = unescape_rbsp(nal.subspan(1));
  BitReader r(rbsp);
  H264Sps sps;
  sps.profile_idc = static_cast<uint8_t>(r.bits(8));
  sps.constraint_flags = static_cast<uint8_t>(r.bits(8));
  sps.level_idc = static_cast<uint8_t>(r.bits(8));
  r.ue();  // seq_parameter_set_id
  uint32_t chroma_format_idc = 1;
  bool separate_colour_plane = false;
  switch (sps.profile_idc) {
    case 100:
    case 110:
    case 122:
    case 244:
    case 44:
    case 83:
    case 86:
    case 118:
    case 128:
    case 138:
    case 139:
    case 134:
    case 135: {
      chroma_format_idc = r.ue();
      if (chroma_format_idc > 3) return std::nullopt;
      if (chroma_format_idc == 3) separate_colour_plane = r.bits(1);
      r.ue();           // bit_depth_luma_minus8
      r.ue();           // bit_depth_chroma_minus8
      r.bits(1);        // qpprime_y_zero_transform_bypass_flag
      if (r.bits(1)) {  // seq_scaling_matrix_present_flag
        for (int i = 0; i < (chroma_format_idc != 3 ? 8 : 12) && !r.failed(); ++i) {
          if (r.bits(1)) skip_scaling_list(r, i < 6 ? 16 : 64);
        }
      }
      break;
    }
    default:
      break;
  }
  r.ue();  // log2_max_frame_num_minus4
  const uint32_t poc_type = r.ue();
  if (poc_type == 0) {
    r.ue();  // log2_max_pic_order_cnt_lsb_minus4
  } else if (poc_type == 1) {
    r.bits(1);
    r.se();
    r.se();
    const uint32_t cycle = r.ue();
    if (cycle > 255) return std::nullopt;
    for (uint32_t i = 0; i < cycle && !r.failed(); ++i) r.se();
  } else if (poc_type != 2) {
    return std::nullopt;
  }
  r.ue();     // max_num_ref_frames
  r.bits(1);  // gaps_in_frame_num_value_allowed_flag
  const uint32_t width_mbs = r.ue() + 1;
  const uint32_t height_map_units = r.ue() + 1;
  const bool frame_mbs_only = r.bits(1);
  if (!frame_mbs_only) r.bits(1);  // mb_adaptive_frame_field_flag
  r.bits(1);                       // direct_8x8_inference_flag
  uint32_t crop_left = 0, crop_right = 0, crop_top = 0, crop_bottom = 0;
  if (r.bits(1)) {
    crop_left = r.ue();
    crop_right = r.ue();
    crop_top = r.ue();
    crop_bottom = r.ue();
  }
  if (r.failed() || width_mbs > 1024 || height_map_units > 1024) return std::nullopt;
  const uint32_t chroma_array_type = separate_colour_plane ? 0 : chroma_format_idc;
  const uint32_t crop_unit_x = chroma_array_type == 0 ? 1 : (chroma_array_type == 3 ? 1 : 2);
  const uint32_t crop_unit_y = (chroma_array_type == 1 ? 2 : 1) * (frame_mbs_only ? 1 : 2);
  const uint32_t full_w = width_mbs * 16;
  const uint32_t full_h = height_map_units * 16 * (frame_mbs_only ? 1 : 2);
  const uint32_t cut_w = crop_unit_x * (crop_left + crop_right);
  const uint32_t cut_h = crop_unit_y * (crop_top + crop_bottom);
  if (cut_w >= full_w || cut_h >= full_h) return std::nullopt;
  sps.width = full_w - cut_w;
  sps.height = full_h - cut_h;
  return sps;
}

}  // namespace nj::media::codec
