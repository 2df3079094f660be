// H.265 over RTP (RFC 7798, without DONL: sprop-max-don-diff 0, as cameras send it): single
// NAL unit packets, aggregation packets (AP) and fragmentation units (FU) in; access units
// out in the same length-prefixed form as H.264 (hvcC with 4-byte lengths). And the reverse.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "media/rtp/h264.h"
#include "media/rtp/packet.h"

namespace nj::media::rtp {

// NAL unit types that matter here (ITU-T H.265 Table 7-1).
inline constexpr uint8_t kH265Vps = 32, kH265Sps = 33, kH265Pps = 34;
inline uint8_t h265_nal_type(uint8_t first_byte) { return (first_byte >> 1) & 0x3f; }
// IRAP pictures (BLA, IDR, CRA): a decoder can start there.
inline bool h265_is_irap(uint8_t type) { return type >= 16 && type <= 21; }

class H265Depacketizer {
 public:
  using Sink = std::function<void(H264AccessUnit&&)>;  // same shape: length-prefixed NALs
  using Stats = H264Depacketizer::Stats;
  explicit H265Depacketizer(Sink sink) : sink_(std::move(sink)) {}
  void push(const Packet& packet);
  void flush();
  const std::vector<uint8_t>& vps() const { return vps_; }
  const std::vector<uint8_t>& sps() const { return sps_; }
  const std::vector<uint8_t>& pps() const { return pps_; }
  void set_parameter_sets(std::vector<uint8_t> vps, std::vector<uint8_t> sps,
                          std::vector<uint8_t> pps);
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
  size_t fu_length_at_ = SIZE_MAX;
  std::vector<uint8_t> vps_, sps_, pps_;
  AccessUnitSizes sizes_;
  Stats stats_;
};

class H265Packetizer {
 public:
  using Sink = std::function<void(std::span<const uint8_t> packet)>;
  H265Packetizer(uint8_t payload_type, uint32_t ssrc, uint16_t first_sequence, size_t mtu = 1400)
      : payload_type_(payload_type), ssrc_(ssrc), sequence_(first_sequence), mtu_(mtu) {}
  bool packetize(std::span<const uint8_t> access_unit, uint32_t timestamp, const Sink& sink);
  uint16_t next_sequence() const { return sequence_; }
  uint32_t ssrc() const { return ssrc_; }

 private:
  uint8_t payload_type_;
  uint32_t ssrc_;
  uint16_t sequence_;
  size_t mtu_;
  std::vector<uint8_t> packet_, payload_;
};

}  // namespace nj::media::rtp
