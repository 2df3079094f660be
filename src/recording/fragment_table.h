// The fragment table of a recorded segment (docs/recording.md): per fragment its duration
// in 90 kHz ticks, whether it starts at a keyframe, and its stored size. Packed as varints
// (duration << 1 | keyframe, then size): 5-7 bytes a fragment, about 200 bytes per
// camera-minute at a 2 s GOP. Offsets are the running sum of sizes after the init segment.
// I/O-free; a damaged table gives an error, never a read out of bounds.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace nj::recording {

inline constexpr uint32_t kTicksPerSecond = 90'000;

struct FragmentEntry {
  uint32_t duration = 0;  // 90 kHz ticks
  uint32_t size = 0;      // stored bytes (moof + mdat, per track)
  bool keyframe = false;  // starts at a video keyframe: playback may start here
  bool operator==(const FragmentEntry&) const = default;
};

void append_fragment(std::vector<uint8_t>& table, const FragmentEntry& entry);
std::vector<uint8_t> encode_fragments(std::span<const FragmentEntry> entries);
Result<std::vector<FragmentEntry>, std::string> decode_fragments(std::span<const uint8_t> table);

// Where a fragment lies: its byte offset in the file and its start in ticks from the
// segment's start.
struct FragmentPosition {
  size_t index = 0;
  uint64_t offset = 0;
  uint64_t start_ticks = 0;
};
// The fragment to start playing at `ticks` from the segment's start: the last one starting
// at a keyframe at or before it (the first keyframe one if none is before). nullopt when no
// fragment starts at a keyframe.
std::optional<FragmentPosition> seek(std::span<const FragmentEntry> entries, uint64_t init_size,
                                     uint64_t ticks);

}  // namespace nj::recording
