// Audio whose RTP payload is the frame itself: Opus (RFC 7587: one packet per Opus packet)
// and G.711 µ-law/A-law (RFC 3551: the samples, one byte each). In and out.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "media/rtp/packet.h"

namespace nj::media::rtp {

struct AudioFrame {
  int64_t timestamp = 0;  // in the RTP clock (the sample rate), unwrapped
  std::vector<uint8_t> data;
};

class FrameDepacketizer {
 public:
  using Sink = std::function<void(AudioFrame&&)>;
  explicit FrameDepacketizer(Sink sink) : sink_(std::move(sink)) {}
  void push(const Packet& packet);
  uint64_t bad_packets() const { return bad_packets_; }

 private:
  Sink sink_;
  TimestampUnwrapper timestamps_;
  uint64_t bad_packets_ = 0;
};

class FramePacketizer {
 public:
  using Sink = std::function<void(std::span<const uint8_t> packet)>;
  FramePacketizer(uint8_t payload_type, uint32_t ssrc, uint16_t first_sequence)
      : payload_type_(payload_type), ssrc_(ssrc), sequence_(first_sequence) {}
  // False (nothing sent) if the frame is empty or would not fit a 1,400-byte packet.
  bool packetize(std::span<const uint8_t> frame, uint32_t timestamp, const Sink& sink);
  uint16_t next_sequence() const { return sequence_; }
  uint32_t ssrc() const { return ssrc_; }

 private:
  uint8_t payload_type_;
  uint32_t ssrc_;
  uint16_t sequence_;
  std::vector<uint8_t> packet_;
};

}  // namespace nj::media::rtp
