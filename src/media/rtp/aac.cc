#include "media/rtp/aac.h"

namespace nj::media::rtp {

void AacDepacketizer::push(const Packet& packet) {
  const auto p = packet.payload;
  if (p.size() < 2) {
    ++bad_packets_;
    return;
  }
  const size_t header_bits = (size_t{p[0]} << 8) | p[1];
  const size_t header_bytes = (header_bits + 7) / 8;
  if (header_bits % 16 != 0 || 2 + header_bytes > p.size()) {
    ++bad_packets_;
    return;
  }
  const size_t count = header_bits / 16;
  size_t offset = 2 + header_bytes;
  const int64_t base = timestamps_.unwrap(packet.timestamp);
  for (size_t i = 0; i < count; ++i) {
    const size_t size = ((size_t{p[2 + 2 * i]} << 8) | p[3 + 2 * i]) >> 3;
    if (size == 0 || offset + size > p.size()) {
      ++bad_packets_;
      return;
    }
    AacFrame frame;
    frame.timestamp = base + static_cast<int64_t>(i) * 1024;
    frame.data.assign(p.begin() + static_cast<long>(offset),
                      p.begin() + static_cast<long>(offset + size));
    offset += size;
    sink_(std::move(frame));
  }
}

bool AacPacketizer::packetize(std::span<const uint8_t> frame, uint32_t timestamp,
                              const Sink& sink) {
  if (frame.empty() || frame.size() >= (1u << 13)) return false;
  payload_.clear();
  payload_.push_back(0);
  payload_.push_back(16);  // one 16-bit AU header
  payload_.push_back(static_cast<uint8_t>(frame.size() >> 5));
  payload_.push_back(static_cast<uint8_t>((frame.size() & 0x1f) << 3));
  payload_.insert(payload_.end(), frame.begin(), frame.end());
  packet_.clear();
  write(packet_, payload_type_, true, sequence_++, timestamp, ssrc_, payload_);
  sink(packet_);
  return true;
}

}  // namespace nj::media::rtp
