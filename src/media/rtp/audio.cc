#include "media/rtp/audio.h"

namespace nj::media::rtp {

void FrameDepacketizer::push(const Packet& packet) {
  if (packet.payload.empty()) {
    ++bad_packets_;
    return;
  }
  AudioFrame frame;
  frame.timestamp = timestamps_.unwrap(packet.timestamp);
  frame.data.assign(packet.payload.begin(), packet.payload.end());
  sink_(std::move(frame));
}

bool FramePacketizer::packetize(std::span<const uint8_t> frame, uint32_t timestamp,
                                const Sink& sink) {
  if (frame.empty() || frame.size() > 1400 - 12) return false;
  packet_.clear();
  write(packet_, payload_type_, true, sequence_++, timestamp, ssrc_, frame);
  sink(packet_);
  return true;
}

}  // namespace nj::media::rtp
