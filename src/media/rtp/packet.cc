#include "media/rtp/packet.h"

#include <chrono>

namespace nj::media::rtp {

std::string_view parse_error_name(ParseError e) {
  switch (e) {
    case ParseError::kTooShort:
      return "too_short";
    case ParseError::kBadVersion:
      return "bad_version";
    case ParseError::kBadPadding:
      return "bad_padding";
    case ParseError::kBadExtension:
      return "bad_extension";
    case ParseError::kBadCsrc:
      return "bad_csrc";
  }
  return "unknown";
}

Result<Packet, ParseError> parse(std::span<const uint8_t> b) {
  if (b.size() < 12) return Unexpected(ParseError::kTooShort);
  if ((b[0] >> 6) != 2) return Unexpected(ParseError::kBadVersion);
  const bool padding = b[0] & 0x20;
  const bool extension = b[0] & 0x10;
  const size_t csrc_count = b[0] & 0x0f;
  Packet p;
  p.marker = b[1] & 0x80;
  p.payload_type = b[1] & 0x7f;
  p.sequence = static_cast<uint16_t>((b[2] << 8) | b[3]);
  p.timestamp = (uint32_t{b[4]} << 24) | (uint32_t{b[5]} << 16) | (uint32_t{b[6]} << 8) | b[7];
  p.ssrc = (uint32_t{b[8]} << 24) | (uint32_t{b[9]} << 16) | (uint32_t{b[10]} << 8) | b[11];
  size_t offset = 12 + 4 * csrc_count;
  if (offset > b.size()) return Unexpected(ParseError::kBadCsrc);
  if (extension) {
    if (offset + 4 > b.size()) return Unexpected(ParseError::kBadExtension);
    const size_t words = (size_t{b[offset + 2]} << 8) | b[offset + 3];
    offset += 4 + 4 * words;
    if (offset > b.size()) return Unexpected(ParseError::kBadExtension);
  }
  size_t end = b.size();
  if (padding) {
    const size_t pad = b.back();
    if (pad == 0 || pad > end - offset) return Unexpected(ParseError::kBadPadding);
    end -= pad;
  }
  p.payload = b.subspan(offset, end - offset);
  return p;
}

void write(std::vector<uint8_t>& out, uint8_t payload_type, bool marker, uint16_t sequence,
           uint32_t timestamp, uint32_t ssrc, std::span<const uint8_t> payload) {
  const uint8_t header[12] = {0x80,
                              static_cast<uint8_t>((marker ? 0x80 : 0) | (payload_type & 0x7f)),
                              static_cast<uint8_t>(sequence >> 8),
                              static_cast<uint8_t>(sequence),
                              static_cast<uint8_t>(timestamp >> 24),
                              static_cast<uint8_t>(timestamp >> 16),
                              static_cast<uint8_t>(timestamp >> 8),
                              static_cast<uint8_t>(timestamp),
                              static_cast<uint8_t>(ssrc >> 24),
                              static_cast<uint8_t>(ssrc >> 16),
                              static_cast<uint8_t>(ssrc >> 8),
                              static_cast<uint8_t>(ssrc)};
  out.insert(out.end(), header, header + 12);
  out.insert(out.end(), payload.begin(), payload.end());
}

void write_sender_report(std::vector<uint8_t>& out, uint32_t ssrc, uint64_t ntp_time,
                         uint32_t rtp_timestamp, uint32_t packet_count, uint32_t octet_count) {
  auto u32 = [&out](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
  };
  out.push_back(0x80);  // V=2, no padding, no report blocks
  out.push_back(200);   // SR
  out.push_back(0);
  out.push_back(6);  // length in 32-bit words minus one
  u32(ssrc);
  u32(static_cast<uint32_t>(ntp_time >> 32));
  u32(static_cast<uint32_t>(ntp_time));
  u32(rtp_timestamp);
  u32(packet_count);
  u32(octet_count);
}

void write_receiver_report(std::vector<uint8_t>& out, uint32_t ssrc) {
  out.push_back(0x80);  // V=2, no padding, no report blocks
  out.push_back(201);   // RR
  out.push_back(0);
  out.push_back(1);  // length in 32-bit words minus one
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(ssrc >> shift));
}

int64_t SenderReport::unix_us() const {
  constexpr int64_t kNtpToUnixSeconds = 2'208'988'800LL;
  const auto seconds = static_cast<int64_t>(ntp_time >> 32) - kNtpToUnixSeconds;
  const auto micros = static_cast<int64_t>(((ntp_time & 0xffffffffULL) * 1'000'000) >> 32);
  return seconds * 1'000'000 + micros;
}

std::optional<SenderReport> parse_sender_report(std::span<const uint8_t> rtcp) {
  // A compound packet: each part is a 4-byte header (V=2, type, length in words - 1).
  while (rtcp.size() >= 4) {
    if ((rtcp[0] >> 6) != 2) return std::nullopt;
    const size_t length = (size_t{rtcp[2]} << 8 | rtcp[3]) * 4 + 4;
    if (length > rtcp.size()) return std::nullopt;
    if (rtcp[1] == 200 && length >= 28) {
      auto u32 = [&](size_t at) {
        return uint32_t{rtcp[at]} << 24 | uint32_t{rtcp[at + 1]} << 16 |
               uint32_t{rtcp[at + 2]} << 8 | rtcp[at + 3];
      };
      SenderReport sr;
      sr.ssrc = u32(4);
      sr.ntp_time = uint64_t{u32(8)} << 32 | u32(12);
      sr.rtp_timestamp = u32(16);
      if (sr.ntp_time == 0) return std::nullopt;  // a sender without a wall clock
      return sr;
    }
    rtcp = rtcp.subspan(length);
  }
  return std::nullopt;
}

uint64_t ntp_now() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count();
  constexpr uint64_t kNtpToUnixSeconds = 2'208'988'800ULL;
  const uint64_t seconds = static_cast<uint64_t>(us / 1'000'000) + kNtpToUnixSeconds;
  const uint64_t fraction = (static_cast<uint64_t>(us % 1'000'000) << 32) / 1'000'000;
  return (seconds << 32) | fraction;
}

namespace {

// The value ≡ v (mod 2^bits) nearest to last.
int64_t nearest(int64_t last, uint64_t v, int bits) {
  const int64_t modulus = int64_t{1} << bits;
  const int64_t base = last - (last & (modulus - 1));
  int64_t candidate = base + static_cast<int64_t>(v);
  if (candidate - last > modulus / 2) candidate -= modulus;
  if (last - candidate > modulus / 2) candidate += modulus;
  return candidate;
}

}  // namespace

int64_t SequenceUnwrapper::unwrap(uint16_t sequence) {
  const int64_t v = last_ ? nearest(*last_, sequence, 16) : sequence;
  if (!last_ || v > *last_) last_ = v;
  return v;
}

int64_t TimestampUnwrapper::unwrap(uint32_t timestamp) {
  const int64_t v = last_ ? nearest(*last_, timestamp, 32) : timestamp;
  if (!last_ || v > *last_) last_ = v;
  return v;
}

}  // namespace nj::media::rtp
