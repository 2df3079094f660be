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

// keyframe: an AVCC access unit holding an IDR picture; sps/pps: the stream's parameter sets
// (used when the access unit does not carry its own).
Result<std::string, std::string> h264_keyframe_to_jpeg(std::span<const uint8_t> keyframe,
                                                       std::span<const uint8_t> sps,
                                                       std::span<const uint8_t> pps,
                                                       const JpegOptions& options = {});

}  // namespace nj::media::snapshot
