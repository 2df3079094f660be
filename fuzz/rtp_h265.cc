// Fuzz target: a stream of RTP packets into the H.265 depacketizer (RFC 7798: single NAL,
// AP, FU). Input: a sequence of [2-byte length][packet] records. Every access unit out must
// be well-formed (4-byte NAL lengths that add up).
#include <cstddef>
#include <cstdint>
#include <span>

#include "media/rtp/h265.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nj::media::rtp;
  H265Depacketizer depacketizer([](H264AccessUnit&& au) {
    if (!for_each_avcc_nal(au.avcc, [](std::span<const uint8_t>) {})) __builtin_trap();
  });
  std::span<const uint8_t> rest(data, size);
  while (rest.size() >= 2) {
    const size_t length = (size_t{rest[0]} << 8) | rest[1];
    rest = rest.subspan(2);
    const auto packet = rest.subspan(0, std::min(length, rest.size()));
    rest = rest.subspan(packet.size());
    if (auto p = parse(packet)) depacketizer.push(*p);
  }
  depacketizer.flush();
  return 0;
}
