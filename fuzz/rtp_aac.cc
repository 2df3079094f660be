// Fuzz target: a stream of RTP packets into the AAC (RFC 3640, AAC-hbr) depacketizer.
// Input: a sequence of [2-byte length][packet] records. No frame may be larger than the
// packet it came in, and nothing may read out of bounds.
#include <cstddef>
#include <cstdint>
#include <span>

#include "media/rtp/aac.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nj::media::rtp;
  size_t packet_size = 0;
  AacDepacketizer depacketizer([&](AacFrame&& frame) {
    if (frame.data.empty() || frame.data.size() > packet_size) __builtin_trap();
  });
  std::span<const uint8_t> rest(data, size);
  while (rest.size() >= 2) {
    const size_t length = (size_t{rest[0]} << 8) | rest[1];
    rest = rest.subspan(2);
    const auto packet = rest.subspan(0, std::min(length, rest.size()));
    rest = rest.subspan(packet.size());
    packet_size = packet.size();
    if (auto p = parse(packet)) depacketizer.push(*p);
  }
  return 0;
}
