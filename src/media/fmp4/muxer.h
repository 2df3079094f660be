// Fragmented MP4 (ISO/IEC 14496-12, with 14496-15 for H.264 and H.265): the init segment
// (ftyp + moov with avcC or hvcC) and media segments (moof + mdat) built straight from AVCC access
// units, for Media Source Extensions, HLS fMP4 and recordings. Bytes out only; no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

namespace nj::media::fmp4 {

// The video track: H.264 (avc1/avcC) or H.265 (hvc1/hvcC), samples with 4-byte lengths.
struct H264Track {
  enum class Codec { kH264, kH265 } codec = Codec::kH264;
  uint32_t track_id = 1;
  uint32_t timescale = 90000;
  uint32_t width = 0, height = 0;
  std::vector<uint8_t> sps, pps;  // NAL units with their header bytes
  std::vector<uint8_t> vps;       // H.265 only
};
using VideoTrack = H264Track;

// An audio track; the timescale is the sample rate. AAC-LC: raw frames of 1,024 samples
// (config: the AudioSpecificConfig). Opus: Opus packets (48 kHz). FLAC: FLAC frames
// (config: the STREAMINFO block's 34 bytes).
struct AudioTrack {
  enum class Codec { kAac, kOpus, kFlac } codec = Codec::kAac;
  uint32_t track_id = 2;
  uint32_t sample_rate = 48000;
  uint16_t channels = 2;
  std::vector<uint8_t> config;
};
using AacTrack = AudioTrack;

struct Sample {
  int64_t decode_time = 0;  // in the track's timescale
  uint32_t duration = 0;
  int32_t composition_offset = 0;  // presentation − decode (B-frames)
  bool keyframe = false;
  std::span<const uint8_t> data;  // AVCC: [4-byte length][NAL]…
};

// ftyp + moov (mvhd, a trak per track, mvex/trex) for an H.264 track and, optionally, audio.
std::vector<uint8_t> init_segment(const H264Track& video, const AudioTrack* audio = nullptr);

// moof (mfhd, traf: tfhd, tfdt, trun) + mdat for consecutive samples of one track.
// sequence_number starts at 1 and grows by one per segment.
std::vector<uint8_t> media_segment(uint32_t sequence_number, uint32_t track_id,
                                   std::span<const Sample> samples);

// An init segment made into the head of a clip: each listed track gets an edit list that
// starts presentation at its media time (the instant asked for, inside the GOP the clip
// starts with), and the movie gets its duration (mvhd, tkhd, and mehd for the fragments).
// nullopt when `init` is not one of ours (an ftyp and a moov with 32-bit box sizes).
std::optional<std::vector<uint8_t>> clip_init(std::span<const uint8_t> init,
                                              const std::map<uint32_t, int64_t>& start_media_time,
                                              uint64_t duration_ms);

}  // namespace nj::media::fmp4
