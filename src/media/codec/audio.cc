#include "media/codec/audio.h"

#include <algorithm>

namespace nj::media::codec {
namespace {

// CRC-8, polynomial x^8 + x^2 + x + 1 (FLAC frame headers).
uint8_t crc8(std::span<const uint8_t> data) {
  uint8_t crc = 0;
  for (uint8_t b : data) {
    crc ^= b;
    for (int i = 0; i < 8; ++i)
      crc = static_cast<uint8_t>(crc & 0x80 ? (crc << 1) ^ 0x07 : crc << 1);
  }
  return crc;
}

// CRC-16, polynomial x^16 + x^15 + x^2 + 1 (FLAC frames).
uint16_t crc16(std::span<const uint8_t> data) {
  uint16_t crc = 0;
  for (uint8_t b : data) {
    crc ^= static_cast<uint16_t>(b << 8);
    for (int i = 0; i < 8; ++i) {
      crc = static_cast<uint16_t>(crc & 0x8000 ? (crc << 1) ^ 0x8005 : crc << 1);
    }
  }
  return crc;
}

// FLAC's UTF-8-like coding of frame and sample numbers (up to 36 bits).
void put_coded_number(std::vector<uint8_t>& out, uint64_t v) {
  if (v < 0x80) {
    out.push_back(static_cast<uint8_t>(v));
    return;
  }
  int extra = 1;
  while (extra < 6 && v >= (uint64_t{1} << (6 + 5 * extra))) ++extra;
  const auto lead = static_cast<uint8_t>((0xff00 >> (extra + 1)) & 0xff);
  out.push_back(static_cast<uint8_t>(lead | (v >> (6 * extra))));
  for (int i = extra - 1; i >= 0; --i)
    out.push_back(static_cast<uint8_t>(0x80 | ((v >> (6 * i)) & 0x3f)));
}

}  // namespace

int16_t ulaw_to_pcm(uint8_t u) {
  u = static_cast<uint8_t>(~u);
  const int exponent = (u >> 4) & 0x07;
  const int mantissa = u & 0x0f;
  const int magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return static_cast<int16_t>(u & 0x80 ? -magnitude : magnitude);
}

int16_t alaw_to_pcm(uint8_t a) {
  a ^= 0x55;
  const int exponent = (a >> 4) & 0x07;
  const int mantissa = a & 0x0f;
  int magnitude = exponent == 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  return static_cast<int16_t>(a & 0x80 ? magnitude : -magnitude);
}

uint8_t pcm_to_ulaw(int16_t pcm) {
  const int sign = pcm < 0 ? 0x80 : 0;
  const int magnitude = std::min(pcm < 0 ? -int{pcm} : int{pcm}, 32635) + 0x84;
  int exponent = 7;
  for (int mask = 0x4000; (magnitude & mask) == 0 && exponent > 0; mask >>= 1) --exponent;
  const int mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  return static_cast<uint8_t>(~(sign | (exponent << 4) | mantissa));
}

uint8_t pcm_to_alaw(int16_t pcm) {
  const int sign = pcm >= 0 ? 0x80 : 0;
  const int magnitude = (pcm >= 0 ? int{pcm} : -(int{pcm} + 1)) >> 3;  // 12 bits
  int exponent = 0;
  for (int limit = 32; magnitude >= limit && exponent < 7; limit <<= 1) ++exponent;
  const int mantissa = exponent == 0 ? (magnitude >> 1) & 0x0f : (magnitude >> exponent) & 0x0f;
  return static_cast<uint8_t>((sign | (exponent << 4) | mantissa) ^ 0x55);
}

std::vector<uint8_t> flac_streaminfo(uint32_t sample_rate, int channels, uint16_t min_block,
                                     uint16_t max_block) {
  std::vector<uint8_t> out;
  out.push_back(static_cast<uint8_t>(min_block >> 8));
  out.push_back(static_cast<uint8_t>(min_block));
  out.push_back(static_cast<uint8_t>(max_block >> 8));
  out.push_back(static_cast<uint8_t>(max_block));
  out.insert(out.end(), 6, 0);  // min/max frame size: unknown
  // 20 bits sample rate, 3 bits channels - 1, 5 bits bits-per-sample - 1, 36 bits samples.
  const uint64_t packed = (uint64_t{sample_rate} << 44) |
                          (uint64_t{static_cast<uint32_t>(channels - 1) & 7} << 41) |
                          (uint64_t{15} << 36);
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<uint8_t>(packed >> (8 * i)));
  out.insert(out.end(), 16, 0);  // MD5 of the audio: not known for a live stream
  return out;
}

std::vector<uint8_t> flac_frame(std::span<const int16_t> samples, uint32_t sample_rate,
                                uint64_t first_sample) {
  std::vector<uint8_t> out;
  if (samples.empty() || samples.size() > 65536) return out;
  out.reserve(16 + samples.size() * 2);
  out.push_back(0xff);
  out.push_back(0xf9);  // sync, variable block size
  const uint8_t rate_code = sample_rate == 8000    ? 0x4
                            : sample_rate == 16000 ? 0x5
                            : sample_rate == 48000 ? 0xa
                            : sample_rate == 44100 ? 0x9
                                                   : 0x0;  // 0: from STREAMINFO
  out.push_back(static_cast<uint8_t>(0x70 | rate_code));   // block size: 16 bits at the end
  out.push_back(0x08);                                     // mono, 16 bits per sample
  put_coded_number(out, first_sample);
  const auto block = static_cast<uint16_t>(samples.size() - 1);
  out.push_back(static_cast<uint8_t>(block >> 8));
  out.push_back(static_cast<uint8_t>(block));
  out.push_back(crc8(out));
  out.push_back(0x02);  // verbatim subframe, no wasted bits
  for (int16_t s : samples) {
    out.push_back(static_cast<uint8_t>(static_cast<uint16_t>(s) >> 8));
    out.push_back(static_cast<uint8_t>(s));
  }
  const uint16_t crc = crc16(out);
  out.push_back(static_cast<uint8_t>(crc >> 8));
  out.push_back(static_cast<uint8_t>(crc));
  return out;
}

std::optional<uint32_t> opus_packet_samples(std::span<const uint8_t> packet) {
  if (packet.empty()) return std::nullopt;
  const uint8_t toc = packet[0];
  const int config = toc >> 3;
  // Frame duration in 48 kHz samples for each configuration (RFC 6716 Table 2).
  uint32_t frame;
  if (config < 12) {
    static constexpr uint32_t kSilk[] = {480, 960, 1920, 2880};
    frame = kSilk[config % 4];
  } else if (config < 16) {
    frame = config % 2 == 0 ? 480 : 960;
  } else {
    static constexpr uint32_t kCelt[] = {120, 240, 480, 960};
    frame = kCelt[config % 4];
  }
  uint32_t frames;
  switch (toc & 3) {
    case 0:
      frames = 1;
      break;
    case 1:
    case 2:
      frames = 2;
      break;
    default:
      if (packet.size() < 2) return std::nullopt;
      frames = packet[1] & 0x3f;
      if (frames == 0) return std::nullopt;
  }
  const uint32_t total = frame * frames;
  if (total > 5760) return std::nullopt;  // more than 120 ms: not allowed
  return total;
}

}  // namespace nj::media::codec
