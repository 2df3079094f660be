#include "recording/recovery.h"

#include <algorithm>

namespace nj::recording {
namespace {

uint32_t be32(std::span<const uint8_t> b, size_t at) {
  return static_cast<uint32_t>(b[at]) << 24 | static_cast<uint32_t>(b[at + 1]) << 16 |
         static_cast<uint32_t>(b[at + 2]) << 8 | b[at + 3];
}

// The box of `type` among the boxes in `b` (32-bit sizes only: the recorder writes no
// other), or an empty span.
std::span<const uint8_t> child(std::span<const uint8_t> b, const char* type) {
  for (size_t at = 0; at + 8 <= b.size();) {
    const uint32_t size = be32(b, at);
    if (size < 8) return {};
    const size_t body = std::min<size_t>(size, b.size() - at);
    if (std::equal(type, type + 4, b.begin() + static_cast<std::ptrdiff_t>(at + 4))) {
      return b.subspan(at + 8, body - 8);
    }
    at += size;
  }
  return {};
}

// The track of the moof at the start of `b`, even when its mdat is cut off; 0 if unknown.
uint32_t moof_track(std::span<const uint8_t> b) {
  const auto tfhd = child(child(child(b, "moof"), "traf"), "tfhd");
  return tfhd.size() >= 8 ? be32(tfhd, 4) : 0;
}

}  // namespace

TailScan scan_fragments(std::span<const uint8_t> bytes, const media::fmp4::DemuxInit& init) {
  TailScan out;
  const media::fmp4::DemuxTrack* video = nullptr;
  for (const auto& t : init.tracks) {
    if (t.handler == "vide" && !video) video = &t;
  }
  if (!video || video->timescale == 0) return out;
  uint64_t at = 0;
  while (at < bytes.size()) {
    auto first = media::fmp4::parse_fragment(bytes.subspan(at), init);
    if (!first || first->samples.empty() || first->samples.front().track_id != video->track_id) {
      break;  // cut short, damaged, or not where a fragment starts
    }
    FragmentEntry entry;
    uint64_t ticks = 0;
    for (const auto& s : first->samples) {
      if (s.track_id == video->track_id) ticks += s.duration;
    }
    ticks = ticks * kTicksPerSecond / video->timescale;
    if (ticks > UINT32_MAX || first->size > UINT32_MAX) break;
    entry.duration = static_cast<uint32_t>(ticks);
    entry.keyframe = first->samples.front().keyframe;
    uint64_t size = first->size;
    // Its audio, when the next moof is for another track.
    if (at + size < bytes.size()) {
      auto second = media::fmp4::parse_fragment(bytes.subspan(at + size), init);
      if (second && !second->samples.empty() &&
          second->samples.front().track_id != video->track_id) {
        size += second->size;
      } else if (!second && moof_track(bytes.subspan(at + size)) != video->track_id &&
                 moof_track(bytes.subspan(at + size)) != 0) {
        break;  // its audio half was being written: the fragment is not whole
      }
    }
    if (size > UINT32_MAX) break;
    entry.size = static_cast<uint32_t>(size);
    out.fragments.push_back(entry);
    at += size;
    out.whole_bytes = at;
  }
  return out;
}

}  // namespace nj::recording
