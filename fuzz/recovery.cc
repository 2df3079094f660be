// Fuzz target: a damaged recording segment into the recovery scanner, as a crash, a torn
// write or a bad disk would leave it. Whatever it keeps must hold: whole fragments only,
// inside the bytes, their sizes adding up to where the file would be cut.
#include "recording/recovery.h"

#include <cstddef>
#include <cstdint>
#include <span>

#include "media/fmp4/demux.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nj;
  const std::span<const uint8_t> bytes(data, size);
  const auto d = media::fmp4::demux(bytes);
  if (d.init.tracks.empty()) return 0;
  uint64_t init_end = d.complete;
  for (const auto& f : d.fragments) init_end -= f.size;
  const auto tail = bytes.subspan(init_end);
  const auto scan = recording::scan_fragments(tail, d.init);
  if (scan.whole_bytes > tail.size()) __builtin_trap();
  uint64_t sum = 0;
  for (const auto& f : scan.fragments) sum += f.size;
  if (sum != scan.whole_bytes) __builtin_trap();
  // What was kept parses again, fragment by fragment.
  const auto again = recording::scan_fragments(tail.first(scan.whole_bytes), d.init);
  if (again.fragments.size() != scan.fragments.size()) __builtin_trap();
  return 0;
}
