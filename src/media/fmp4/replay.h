// Replaying an fMP4 file into the hub (a camera playing a recording from its SD card, and
// later the cloud's own recordings): what a publisher needs from the init segment (the
// codecs and their parameter sets, out of avcC/hvcC/esds/dOps), and each sample as a hub
// frame on the track's clock. I/O-free; a hostile init segment gives an error.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/result.h"
#include "media/fmp4/demux.h"
#include "media/hub/hub.h"

namespace nj::media::fmp4 {

struct ReplayTracks {
  hub::StreamInfo info;
  uint32_t video_track = 0;
  uint32_t audio_track = 0;  // 0: no audio the hub can carry (none, or FLAC made for browsers)
  uint32_t video_timescale = 0, audio_timescale = 0;
};

// The stream an init segment describes. Needs an H.264 or H.265 video track with 4-byte
// NAL lengths; AAC and Opus audio are kept, other audio is left out.
Result<ReplayTracks, std::string> replay_tracks(const DemuxInit& init);

// One sample of a fragment as a hub frame: data copied from `fragment` (the fragment's
// bytes, as parse_fragment read them), timestamp on the hub's clock for the track (90 kHz
// video, the sample rate for audio). Nullopt for a sample of a track left out, or one
// whose bytes are not all in `fragment`.
std::optional<hub::Frame> replay_frame(const ReplayTracks& tracks, const DemuxSample& sample,
                                       std::span<const uint8_t> fragment);

}  // namespace nj::media::fmp4
