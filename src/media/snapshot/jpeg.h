// Still pictures from live video: an H.264 keyframe decoded with libavcodec and encoded as
// JPEG (the only place Nightjar decodes video; relayed and recorded media are never
// re-encoded). Synchronous and CPU-bound: run it on a worker, not on an event loop.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace nj::media::snapshot {

struct JpegOptions {
  uint32_t max_width = 1280;  // larger pictures are scaled down, keeping the aspect ratio
  int quality = 4;            // MJPEG qscale: 2 (best) … 31
};

// keyframe: an access unit (4-byte NAL lengths) holding an H.264 IDR or H.265 IRAP picture;
// parameter_sets: the stream's (VPS,) SPS and PPS, used when the access unit lacks its own.
enum class VideoCodec { kH264, kH265 };
Result<std::string, std::string> keyframe_to_jpeg(
    VideoCodec codec, std::span<const uint8_t> keyframe,
    std::span<const std::span<const uint8_t>> parameter_sets, const JpegOptions& options = {});

// The keyframe's brightness only (8-bit grey), scaled down to at most max_width: what
// server-side detection looks at.
struct GrayPicture {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // width × height, row by row
};
Result<GrayPicture, std::string> keyframe_to_gray(
    VideoCodec codec, std::span<const uint8_t> keyframe,
    std::span<const std::span<const uint8_t>> parameter_sets, uint32_t max_width = 640);

inline Result<std::string, std::string> h264_keyframe_to_jpeg(std::span<const uint8_t> keyframe,
                                                              std::span<const uint8_t> sps,
                                                              std::span<const uint8_t> pps,
                                                              const JpegOptions& options = {}) {
  const std::span<const uint8_t> sets[] = {sps, pps};
  return keyframe_to_jpeg(VideoCodec::kH264, keyframe, sets, options);
}

}  // namespace nj::media::snapshot
