// Audio codec helpers for the formats cameras send that browsers cannot take as they are:
// G.711 (ITU-T G.711 µ-law and A-law) decoded to 16-bit PCM, and FLAC frames (RFC 9639)
// written from that PCM, so that G.711 reaches Media Source Extensions losslessly and
// cheaply. And the duration of an Opus packet from its TOC byte (RFC 6716 §3.1).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace nj::media::codec {

int16_t ulaw_to_pcm(uint8_t u);
int16_t alaw_to_pcm(uint8_t a);
// And back: the code whose value is nearest (what the browser's talk encoder and a gateway
// whose camera takes A-law do).
uint8_t pcm_to_ulaw(int16_t pcm);
uint8_t pcm_to_alaw(int16_t pcm);

// The FLAC STREAMINFO metadata block's 34 bytes (for the dfLa box of an MP4 sample entry).
std::vector<uint8_t> flac_streaminfo(uint32_t sample_rate, int channels, uint16_t min_block,
                                     uint16_t max_block);

// One FLAC frame of mono 16-bit samples (a verbatim subframe: no prediction, so it costs a
// copy and two CRCs), numbered by its first sample (variable block size). 1…65,536 samples.
std::vector<uint8_t> flac_frame(std::span<const int16_t> samples, uint32_t sample_rate,
                                uint64_t first_sample);

// Samples (at 48 kHz) in an Opus packet, or nullopt if the packet is malformed.
std::optional<uint32_t> opus_packet_samples(std::span<const uint8_t> packet);

}  // namespace nj::media::codec
