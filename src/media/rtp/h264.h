// H.264 over RTP (RFC 6184, packetization-mode 1): single NAL unit packets, STAP-A and FU-A
// in; access units out in AVCC form (each NAL unit prefixed with its 4-byte length), which
// is what fMP4 samples carry, so the muxer copies nothing further. And the reverse.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "media/rtp/packet.h"

namespace nj::media::rtp {

struct H264AccessUnit {
  int64_t timestamp = 0;      // 90 kHz, unwrapped
  std::vector<uint8_t> avcc;  // [4-byte length][NAL unit]…
  bool keyframe = false;      // holds an IDR slice
  bool damaged = false;       // a packet of it was lost or malformed
};

// How large an access unit's buffer starts: the size of the last one of its kind (a
// keyframe or not) and an eighth more, so that it is allocated once rather than grown
// packet by packet (copying it each time it doubles). At most 256 KiB: a sender cannot
// make small frames hold large buffers (larger ones grow as before). Shared by the H.264
// and H.265 depacketizers.
class AccessUnitSizes {
 public:
  size_t reserve(bool keyframe) const {
    const size_t last = last_[keyframe ? 1 : 0];
    return std::min<size_t>(last + last / 8 + 64, 256 * 1024);
  }
  void seen(bool keyframe, size_t size) { last_[keyframe ? 1 : 0] = size; }

 private:
  size_t last_[2] = {0, 0};
};

class H264Depacketizer {
 public:
  using Sink = std::function<void(H264AccessUnit&&)>;
  struct Stats {
    uint64_t packets = 0;
    uint64_t access_units = 0;
    uint64_t lost_packets = 0;  // gaps in the sequence numbers
    uint64_t bad_packets = 0;   // malformed payloads, dropped
    uint64_t unsupported = 0;   // STAP-B, MTAP, FU-B: not in packetization-mode 1
  };

  explicit H264Depacketizer(Sink sink) : sink_(std::move(sink)) {}

  // Packets must come in sequence order (see ReorderBuffer for UDP).
  void push(const Packet& packet);
  // Emits the access unit in progress, if any (end of stream).
  void flush();

  // The latest parameter sets seen in band (or set from the SDP).
  const std::vector<uint8_t>& sps() const { return sps_; }
  const std::vector<uint8_t>& pps() const { return pps_; }
  void set_parameter_sets(std::vector<uint8_t> sps, std::vector<uint8_t> pps);
  const Stats& stats() const { return stats_; }

 private:
  void append_nal(std::span<const uint8_t> nal);
  void emit();

  Sink sink_;
  SequenceUnwrapper sequences_;
  TimestampUnwrapper timestamps_;
  std::optional<int64_t> last_sequence_;
  H264AccessUnit current_;
  bool has_current_ = false;
  bool current_has_slice_ = false;
  size_t fu_length_at_ = SIZE_MAX;  // where the length of the FU-A NAL in progress goes
  std::vector<uint8_t> sps_, pps_;
  AccessUnitSizes sizes_;
  Stats stats_;
};

// Splits an access unit into RTP packets of at most mtu bytes (header included): a NAL
// unit that fits goes alone, a larger one as FU-A fragments; the last packet has the marker.
class H264Packetizer {
 public:
  using Sink = std::function<void(std::span<const uint8_t> packet)>;
  H264Packetizer(uint8_t payload_type, uint32_t ssrc, uint16_t first_sequence, size_t mtu = 1400)
      : payload_type_(payload_type), ssrc_(ssrc), sequence_(first_sequence), mtu_(mtu) {}

  // False if avcc is malformed (a length runs past the end); nothing is sent then.
  bool packetize(std::span<const uint8_t> avcc, uint32_t timestamp, const Sink& sink);
  uint16_t next_sequence() const { return sequence_; }
  uint32_t ssrc() const { return ssrc_; }

 private:
  uint8_t payload_type_;
  uint32_t ssrc_;
  uint16_t sequence_;
  size_t mtu_;
  std::vector<uint8_t> packet_, payload_;
};

// Calls fn(nal) for each NAL unit of an AVCC buffer; false if it is malformed.
bool for_each_avcc_nal(std::span<const uint8_t> avcc,
                       const std::function<void(std::span<const uint8_t>)>& fn);

// Calls fn(nal) for each NAL unit of an aggregation packet's body (H.264 STAP-A after its
// one-byte header, H.265 AP after its two: each unit after a 16-bit size) while fn returns
// true. False at a malformed unit (size zero or past the end), after the units before it.
template <typename Fn>
bool for_each_aggregated_nal(std::span<const uint8_t> units, Fn&& fn) {
  size_t i = 0;
  while (i + 2 <= units.size()) {
    const size_t size = (size_t{units[i]} << 8) | units[i + 1];
    i += 2;
    if (size == 0 || size > units.size() - i) return false;
    if (!fn(units.subspan(i, size))) return true;
    i += size;
  }
  return true;
}

// Annex B (start codes) to AVCC (4-byte lengths); empty NAL units are skipped.
std::vector<uint8_t> annexb_to_avcc(std::span<const uint8_t> annexb);

}  // namespace nj::media::rtp
