// Reading a segment file's fragments back (docs/recording.md, crash safety): after a crash,
// the fragments written after the last saved index are found again, and the file is cut
// where the last whole one ends. A recorder fragment is a video moof + mdat, then the audio
// moof + mdat of the same span if there is one. I/O-free; a damaged file gives fewer
// fragments, never a crash (fuzz/recovery.cc).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "media/fmp4/demux.h"
#include "recording/fragment_table.h"

namespace nj::recording {

struct TailScan {
  std::vector<FragmentEntry> fragments;
  uint64_t whole_bytes = 0;  // from the start of the bytes given to the end of the last whole one
};

// `bytes` start at a fragment boundary; `init` is the file's own init segment. Durations
// come out in 90 kHz ticks, from the video track's timescale.
TailScan scan_fragments(std::span<const uint8_t> bytes, const media::fmp4::DemuxInit& init);

}  // namespace nj::recording
