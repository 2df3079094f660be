// Reading fragmented MP4 back (ISO/IEC 14496-12): the tracks of an init segment and the
// samples of each moof + mdat, with their times, sizes, sync flags and byte ranges. Used by
// tests to check what the muxer, the live packager and HLS produce, and by recording to
// rescan segment files. I/O-free; hostile input gives an error, never a read out of bounds.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace nj::media::fmp4 {

enum class DemuxError {
  kTruncated,         // a box runs past the end of the bytes
  kBadBox,            // a box too small for what it must hold
  kNoMovie,           // no moov, or no track in it
  kUnknownTrack,      // a fragment for a track the init segment does not have
  kSampleOutOfRange,  // a sample's bytes lie outside the data given
  kTooManySamples,    // more samples than any real fragment holds
};
std::string_view demux_error_name(DemuxError e);

struct DemuxTrack {
  uint32_t track_id = 0;
  uint32_t timescale = 0;
  std::string handler;             // "vide", "soun"
  std::string codec;               // the sample entry: "avc1", "hvc1", "mp4a", "Opus", "fLaC"
  uint32_t width = 0, height = 0;  // video, from the sample entry
  uint16_t channels = 0;           // audio
  uint32_t sample_rate = 0;        // audio
  std::vector<uint8_t> config;     // the body of avcC, hvcC, esds, dOps or dfLa
  // trex defaults for fragments that do not say.
  uint32_t default_duration = 0, default_size = 0, default_flags = 0;
};

struct DemuxInit {
  std::vector<DemuxTrack> tracks;
  const DemuxTrack* track(uint32_t track_id) const;
};

// ftyp (optional) and moov.
Result<DemuxInit, DemuxError> parse_init(std::span<const uint8_t> bytes);

struct DemuxSample {
  uint32_t track_id = 0;
  int64_t decode_time = 0;  // in the track's timescale
  uint32_t duration = 0;
  int32_t composition_offset = 0;
  bool keyframe = false;
  uint64_t offset = 0;  // of the sample's bytes, from the start of the fragment
  uint32_t size = 0;
};

struct DemuxFragment {
  uint32_t sequence = 0;
  uint64_t size = 0;  // moof + mdat (and anything between them)
  std::vector<DemuxSample> samples;
};

// One fragment at the start of `bytes`: a moof (after any styp/sidx/prft) and the mdat its
// samples point into. Fails with kTruncated when the fragment is not all there yet.
Result<DemuxFragment, DemuxError> parse_fragment(std::span<const uint8_t> bytes,
                                                 const DemuxInit& init);

// A whole stream: the init segment, then fragment after fragment until the end or the first
// one that is incomplete or broken. `complete` is where the last whole fragment ends, so a
// file cut short can be truncated there.
struct Demuxed {
  DemuxInit init;
  std::vector<DemuxFragment> fragments;
  uint64_t complete = 0;
  std::optional<DemuxError> error;  // what stopped the scan before the end, if anything
};
Demuxed demux(std::span<const uint8_t> bytes);

}  // namespace nj::media::fmp4
