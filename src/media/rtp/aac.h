// AAC over RTP, RFC 3640 mode AAC-hbr (what ffmpeg, GStreamer and cameras send): an
// AU-headers section (13-bit size, 3-bit index) and then the access units. Raw AAC frames
// (1,024 samples each) out and in.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "media/rtp/packet.h"

namespace nj::media::rtp {

struct AacFrame {
  int64_t timestamp = 0;  // in samples (the RTP clock is the sample rate), unwrapped
  std::vector<uint8_t> data;
};

class AacDepacketizer {
 public:
  using Sink = std::function<void(AacFrame&&)>;
  explicit AacDepacketizer(Sink sink) : sink_(std::move(sink)) {}
  void push(const Packet& packet);
  uint64_t bad_packets() const { return bad_packets_; }

 private:
  Sink sink_;
  TimestampUnwrapper timestamps_;
  uint64_t bad_packets_ = 0;
};

// One AAC frame per packet (each is far below the MTU).
class AacPacketizer {
 public:
  using Sink = std::function<void(std::span<const uint8_t> packet)>;
  AacPacketizer(uint8_t payload_type, uint32_t ssrc, uint16_t first_sequence)
      : payload_type_(payload_type), ssrc_(ssrc), sequence_(first_sequence) {}
  // False if the frame is too large for a 13-bit AU size.
  bool packetize(std::span<const uint8_t> frame, uint32_t timestamp, const Sink& sink);
  uint16_t next_sequence() const { return sequence_; }
  uint32_t ssrc() const { return ssrc_; }

 private:
  uint8_t payload_type_;
  uint32_t ssrc_;
  uint16_t sequence_;
  std::vector<uint8_t> payload_, packet_;
};

}  // namespace nj::media::rtp
