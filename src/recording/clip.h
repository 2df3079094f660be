// A clip of recorded media as one standard MP4 file (clip.mp4?from&to): the first
// segment's init segment, with edit lists so that players start at `from` exactly, then
// the fragments from the keyframe at or before `from` up to `to`; the last fragment is cut
// at `to` (its samples re-muxed, not re-encoded). A clip stays within one run (a gap ends
// it) and one set of codec parameters. Planned from the index, then read piece by piece,
// so a byte range of the clip reads only what it covers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "recording/catalog.h"
#include "recording/sealed.h"
#include "recording/store.h"

namespace nj::recording {

struct ClipPlan {
  std::vector<uint8_t> head;  // ftyp + moov with the edit lists
  struct Piece {
    // A range of a segment's plain MP4, or (when bytes is set) bytes made here.
    std::shared_ptr<SegmentReader> reader;
    uint64_t offset = 0, size = 0;
    std::shared_ptr<const std::vector<uint8_t>> bytes;
    // Decode times rebased so the clip's first fragment starts at 0: where each tfdt's
    // 8-byte value lies in the piece, and what it becomes.
    std::vector<std::pair<uint64_t, uint64_t>> tfdt;
  };
  std::vector<Piece> pieces;
  uint64_t size = 0;
  int64_t start_ms = 0, end_ms = 0;  // what the clip shows
};

// segments: a device's, by start, as Catalog::between gives them (with fragments); sealed
// ones open with their binding's key, found through `keys`.
Result<ClipPlan, std::string> plan_clip(Store& store, const KeyLookup& keys,
                                        const std::vector<Segment>& segments, int64_t from_ms,
                                        int64_t to_ms);
// `length` bytes of the clip from `first`.
Result<std::vector<uint8_t>, std::string> read_clip(const ClipPlan& plan, uint64_t first,
                                                    uint64_t length);

}  // namespace nj::recording
