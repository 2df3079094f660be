// RTP packets (RFC 3550): parsing a packet without copying its payload, writing one, and
// extending 16-bit sequence numbers and 32-bit timestamps to 64 bits across wrap-around.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace nj::media::rtp {

enum class ParseError { kTooShort, kBadVersion, kBadPadding, kBadExtension, kBadCsrc };
std::string_view parse_error_name(ParseError e);

// A parsed packet. payload points into the buffer given to parse(): keep that alive.
struct Packet {
  uint8_t payload_type = 0;
  bool marker = false;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  std::span<const uint8_t> payload;
};

Result<Packet, ParseError> parse(std::span<const uint8_t> bytes);

// Appends a 12-byte header (no CSRC, no extension) and the payload to out.
void write(std::vector<uint8_t>& out, uint8_t payload_type, bool marker, uint16_t sequence,
           uint32_t timestamp, uint32_t ssrc, std::span<const uint8_t> payload);

// Appends an RTCP sender report (RFC 3550 §6.4.1) with no report blocks: it ties the
// stream's RTP clock to wall-clock time (NTP format), so receivers can place and sync tracks.
void write_sender_report(std::vector<uint8_t>& out, uint32_t ssrc, uint64_t ntp_time,
                         uint32_t rtp_timestamp, uint32_t packet_count, uint32_t octet_count);

// Appends an RTCP receiver report with no report blocks: a receiver's "still here" on a UDP
// path, which also opens NAT bindings towards the sender.
void write_receiver_report(std::vector<uint8_t>& out, uint32_t ssrc);

// Wall-clock time now in the 64-bit NTP format (seconds since 1900 . fraction).
uint64_t ntp_now();

// The sender report in an RTCP compound packet, if there is one: where the sender's RTP
// clock stood at a wall-clock instant, which places its tracks on one timeline.
struct SenderReport {
  uint32_t ssrc = 0;
  uint64_t ntp_time = 0;
  uint32_t rtp_timestamp = 0;
  // The NTP time as microseconds since the Unix epoch.
  int64_t unix_us() const;
};
std::optional<SenderReport> parse_sender_report(std::span<const uint8_t> rtcp);

// Extends wrapping counters to 64 bits. The first value is taken as is; each next one is
// placed nearest to the last (so reordering and wrap-around are both handled).
class SequenceUnwrapper {
 public:
  int64_t unwrap(uint16_t sequence);

 private:
  std::optional<int64_t> last_;
};

class TimestampUnwrapper {
 public:
  int64_t unwrap(uint32_t timestamp);

 private:
  std::optional<int64_t> last_;
};

}  // namespace nj::media::rtp
