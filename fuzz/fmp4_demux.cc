// Fuzz target: fragmented MP4 into the demuxer, as a damaged recording or a hostile file
// would reach it. Whatever it returns must hold: every sample lies inside its fragment,
// fragments tile the bytes up to `complete`, and each fragment parses again on its own.
// What the demuxer accepts is then replayed as hub frames (as an SD card's recording is).
#include <cstddef>
#include <cstdint>
#include <span>

#include "media/fmp4/demux.h"
#include "media/fmp4/replay.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nj::media::fmp4;
  const std::span<const uint8_t> bytes(data, size);
  const auto d = demux(bytes);
  if (d.complete > size) __builtin_trap();
  uint64_t end = d.complete;
  for (auto it = d.fragments.rbegin(); it != d.fragments.rend(); ++it) end -= it->size;
  uint64_t at = end;  // the end of the init segment
  const auto replay = replay_tracks(d.init);
  for (const auto& f : d.fragments) {
    for (const auto& s : f.samples) {
      if (s.offset > f.size || s.size > f.size - s.offset) __builtin_trap();
      if (!d.init.track(s.track_id)) __builtin_trap();
    }
    const auto again = parse_fragment(bytes.subspan(at, f.size), d.init);
    if (!again || again->samples.size() != f.samples.size()) __builtin_trap();
    if (replay) {
      for (const auto& s : f.samples) {
        const auto frame = replay_frame(*replay, s, bytes.subspan(at, f.size));
        if (frame && frame->data.size() != s.size) __builtin_trap();
      }
    }
    at += f.size;
  }
  if (at != d.complete) __builtin_trap();
  return 0;
}
