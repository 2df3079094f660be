#include "media/rtp/h265.h"

#include <algorithm>

namespace nj::media::rtp {
namespace {

constexpr uint8_t kAp = 48, kFu = 49, kPaci = 50;

void put_u32(std::vector<uint8_t>& out, size_t at, uint32_t v) {
  out[at] = static_cast<uint8_t>(v >> 24);
  out[at + 1] = static_cast<uint8_t>(v >> 16);
  out[at + 2] = static_cast<uint8_t>(v >> 8);
  out[at + 3] = static_cast<uint8_t>(v);
}

// IRAP pictures' slices (16–21) and parameter sets (VPS, SPS, PPS).
bool keyframe_nal(uint8_t type) { return (type >= 16 && type <= 21) || (type >= 32 && type <= 34); }

// Whether an access unit starting with this payload is likely a keyframe: it starts with
// an IRAP picture's slice or parameter sets, alone or fragmented, or aggregates one (an
// aggregate may as well hold an SEI and a predicted slice). Only the buffer's size hint
// depends on it.
bool starts_keyframe(std::span<const uint8_t> payload) {
  if (payload.size() < 2) return false;
  const uint8_t type = (payload[0] >> 1) & 0x3f;
  if (type == kFu) return payload.size() > 2 && keyframe_nal(payload[2] & 0x3f);
  if (type != kAp) return keyframe_nal(type);
  bool keyframe = false;
  for_each_aggregated_nal(payload.subspan(2), [&](std::span<const uint8_t> nal) {
    keyframe = keyframe_nal((nal[0] >> 1) & 0x3f);
    return !keyframe;
  });
  return keyframe;
}

}  // namespace

void H265Depacketizer::set_parameter_sets(std::vector<uint8_t> vps, std::vector<uint8_t> sps,
                                          std::vector<uint8_t> pps) {
  vps_ = std::move(vps);
  sps_ = std::move(sps);
  pps_ = std::move(pps);
}

void H265Depacketizer::append_nal(std::span<const uint8_t> nal) {
  if (nal.size() < 2) {
    ++stats_.bad_packets;
    current_.damaged = true;
    return;
  }
  const uint8_t type = h265_nal_type(nal[0]);
  if (type >= kH265Vps && type <= kH265Pps && current_has_slice_) {
    // Copies of the parameter sets after a slice of the same picture: left out, as for
    // H.264, so decoders do not see a new access unit there.
    const auto& known = type == kH265Vps ? vps_ : type == kH265Sps ? sps_ : pps_;
    if (std::equal(nal.begin(), nal.end(), known.begin(), known.end())) return;
  }
  if (type < 32) current_has_slice_ = true;
  if (h265_is_irap(type)) current_.keyframe = true;
  if (type == kH265Vps) vps_.assign(nal.begin(), nal.end());
  if (type == kH265Sps) sps_.assign(nal.begin(), nal.end());
  if (type == kH265Pps) pps_.assign(nal.begin(), nal.end());
  const size_t at = current_.avcc.size();
  current_.avcc.resize(at + 4);
  put_u32(current_.avcc, at, static_cast<uint32_t>(nal.size()));
  current_.avcc.insert(current_.avcc.end(), nal.begin(), nal.end());
}

void H265Depacketizer::emit() {
  if (fu_length_at_ != SIZE_MAX) {
    current_.avcc.resize(fu_length_at_);
    current_.damaged = true;
    fu_length_at_ = SIZE_MAX;
  }
  if (has_current_ && !current_.avcc.empty()) {
    ++stats_.access_units;
    sizes_.seen(current_.keyframe, current_.avcc.size());
    sink_(std::move(current_));
  }
  current_ = H264AccessUnit{};
  has_current_ = false;
  current_has_slice_ = false;
}

void H265Depacketizer::flush() { emit(); }

void H265Depacketizer::push(const Packet& packet) {
  ++stats_.packets;
  const int64_t sequence = sequences_.unwrap(packet.sequence);
  bool lost = false;
  if (last_sequence_) {
    if (sequence <= *last_sequence_) {
      ++stats_.bad_packets;
      return;
    }
    if (sequence > *last_sequence_ + 1) {
      stats_.lost_packets += static_cast<uint64_t>(sequence - *last_sequence_ - 1);
      lost = true;
    }
  }
  last_sequence_ = sequence;
  const int64_t timestamp = timestamps_.unwrap(packet.timestamp);
  if (has_current_ && timestamp != current_.timestamp) emit();
  if (!has_current_) {
    current_.timestamp = timestamp;
    current_.avcc.reserve(sizes_.reserve(starts_keyframe(packet.payload)));
    has_current_ = true;
  }
  if (lost) {
    current_.damaged = true;
    if (fu_length_at_ != SIZE_MAX) {
      current_.avcc.resize(fu_length_at_);
      fu_length_at_ = SIZE_MAX;
    }
  }
  const auto p = packet.payload;
  if (p.size() < 3 || (p[0] & 0x80)) {  // too short, or the forbidden bit
    ++stats_.bad_packets;
    current_.damaged = true;
  } else {
    const uint8_t type = h265_nal_type(p[0]);
    if (type < kAp) {
      append_nal(p);
    } else if (type == kAp) {
      const bool whole = for_each_aggregated_nal(p.subspan(2), [&](std::span<const uint8_t> nal) {
        append_nal(nal);
        return true;
      });
      if (!whole) {
        ++stats_.bad_packets;
        current_.damaged = true;
      }
    } else if (type == kFu) {
      const bool start = p[2] & 0x80;
      const bool end = p[2] & 0x40;
      const uint8_t fu_type = p[2] & 0x3f;
      if (start) {
        if (fu_length_at_ != SIZE_MAX) {
          current_.avcc.resize(fu_length_at_);
          current_.damaged = true;
        }
        if (h265_is_irap(fu_type)) current_.keyframe = true;
        if (fu_type < 32) current_has_slice_ = true;
        fu_length_at_ = current_.avcc.size();
        current_.avcc.resize(fu_length_at_ + 4);
        // The NAL header again: the payload header with the FU's type put back.
        current_.avcc.push_back(static_cast<uint8_t>((p[0] & 0x81) | (fu_type << 1)));
        current_.avcc.push_back(p[1]);
      }
      if (fu_length_at_ == SIZE_MAX) {
        current_.damaged = true;  // a middle or end without its start
      } else {
        current_.avcc.insert(current_.avcc.end(), p.begin() + 3, p.end());
        if (end) {
          const size_t nal_size = current_.avcc.size() - fu_length_at_ - 4;
          put_u32(current_.avcc, fu_length_at_, static_cast<uint32_t>(nal_size));
          const auto nal = std::span<const uint8_t>(current_.avcc).subspan(fu_length_at_ + 4);
          const uint8_t nal_type = h265_nal_type(nal[0]);
          if (nal_type == kH265Vps) vps_.assign(nal.begin(), nal.end());
          if (nal_type == kH265Sps) sps_.assign(nal.begin(), nal.end());
          if (nal_type == kH265Pps) pps_.assign(nal.begin(), nal.end());
          fu_length_at_ = SIZE_MAX;
        }
      }
    } else if (type == kPaci) {
      ++stats_.unsupported;
      current_.damaged = true;
    } else {
      ++stats_.bad_packets;  // 51–63: unspecified
    }
  }
  if (packet.marker) emit();
}

bool H265Packetizer::packetize(std::span<const uint8_t> access_unit, uint32_t timestamp,
                               const Sink& sink) {
  std::vector<std::span<const uint8_t>> nals;
  bool ok =
      for_each_avcc_nal(access_unit, [&](std::span<const uint8_t> nal) { nals.push_back(nal); });
  if (!ok) return false;
  for (const auto& nal : nals) {
    if (nal.size() < 2) return false;
  }
  const size_t max_payload = mtu_ - 12;
  for (size_t n = 0; n < nals.size(); ++n) {
    const auto nal = nals[n];
    const bool last_nal = n + 1 == nals.size();
    if (nal.size() <= max_payload) {
      packet_.clear();
      write(packet_, payload_type_, last_nal, sequence_++, timestamp, ssrc_, nal);
      sink(packet_);
      continue;
    }
    // FU: payload header (type 49, the NAL's layer and temporal id), FU header, fragment.
    const uint8_t header0 = static_cast<uint8_t>((nal[0] & 0x81) | (kFu << 1));
    const uint8_t type = h265_nal_type(nal[0]);
    size_t offset = 2;
    while (offset < nal.size()) {
      const size_t chunk = std::min(max_payload - 3, nal.size() - offset);
      const bool start = offset == 2;
      const bool end = offset + chunk == nal.size();
      payload_.clear();
      payload_.push_back(header0);
      payload_.push_back(nal[1]);
      payload_.push_back(static_cast<uint8_t>((start ? 0x80 : 0) | (end ? 0x40 : 0) | type));
      payload_.insert(payload_.end(), nal.begin() + static_cast<long>(offset),
                      nal.begin() + static_cast<long>(offset + chunk));
      packet_.clear();
      write(packet_, payload_type_, last_nal && end, sequence_++, timestamp, ssrc_, payload_);
      sink(packet_);
      offset += chunk;
    }
  }
  return true;
}

}  // namespace nj::media::rtp
