// Fuzz target: the RTSP connection parser, fed the input as one stream of items.
#include <cstddef>
#include <cstdint>
#include <span>

#include "media/rtsp/message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nj::media::rtsp;
  std::span<const uint8_t> rest(data, size);
  Item item;
  while (!rest.empty()) {
    auto used = parse(rest, item);
    if (!used || *used == 0) break;
    if (*used > rest.size()) __builtin_trap();
    if (item.kind == Item::Kind::kMessage) {
      if (const auto t = item.message.header("Transport")) (void)parse_transport(*t);
      (void)serialize(item.message);
    }
    rest = rest.subspan(*used);
  }
  return 0;
}
