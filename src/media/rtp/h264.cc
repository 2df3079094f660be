#include "media/rtp/h264.h"

namespace nj::media::rtp {
namespace {

constexpr uint8_t kStapA = 24, kStapB = 25, kMtap16 = 26, kMtap24 = 27, kFuA = 28, kFuB = 29;
constexpr uint8_t kIdr = 5, kSps = 7, kPps = 8;

void put_u32(std::vector<uint8_t>& out, size_t at, uint32_t v) {
  out[at] = static_cast<uint8_t>(v >> 24);
  out[at + 1] = static_cast<uint8_t>(v >> 16);
  out[at + 2] = static_cast<uint8_t>(v >> 8);
  out[at + 3] = static_cast<uint8_t>(v);
}

bool keyframe_nal(uint8_t type) { return type == kIdr || type == kSps || type == kPps; }

// Whether an access unit starting with this payload is likely a keyframe: it starts with
// an IDR slice or parameter sets, alone or fragmented, or aggregates one (an aggregate may
// as well hold an SEI and a predicted slice). Only the buffer's size hint depends on it.
bool starts_keyframe(std::span<const uint8_t> payload) {
  if (payload.empty()) return false;
  const uint8_t type = payload[0] & 0x1f;
  if (type == kFuA) return payload.size() > 1 && keyframe_nal(payload[1] & 0x1f);
  if (type != kStapA) return keyframe_nal(type);
  bool keyframe = false;
  for_each_aggregated_nal(payload.subspan(1), [&](std::span<const uint8_t> nal) {
    keyframe = keyframe_nal(nal[0] & 0x1f);
    return !keyframe;
  });
  return keyframe;
}

}  // namespace

void H264Depacketizer::set_parameter_sets(std::vector<uint8_t> sps, std::vector<uint8_t> pps) {
  sps_ = std::move(sps);
  pps_ = std::move(pps);
}

void H264Depacketizer::append_nal(std::span<const uint8_t> nal) {
  if (nal.empty()) return;
  const uint8_t type = nal[0] & 0x1f;
  if ((type == kSps || type == kPps) && current_has_slice_) {
    // Parameter sets repeated after a slice of the same picture (GStreamer's payloader
    // does this before every IDR slice): they would start a new access unit for decoders
    // (H.264 §7.4.1.2.3) and split the picture, so the copies are left out.
    const auto& known = type == kSps ? sps_ : pps_;
    if (std::equal(nal.begin(), nal.end(), known.begin(), known.end())) return;
  }
  if (type >= 1 && type <= kIdr) current_has_slice_ = true;
  if (type == kIdr) current_.keyframe = true;
  if (type == kSps) sps_.assign(nal.begin(), nal.end());
  if (type == kPps) pps_.assign(nal.begin(), nal.end());
  const size_t at = current_.avcc.size();
  current_.avcc.resize(at + 4);
  put_u32(current_.avcc, at, static_cast<uint32_t>(nal.size()));
  current_.avcc.insert(current_.avcc.end(), nal.begin(), nal.end());
}

void H264Depacketizer::emit() {
  if (fu_length_at_ != SIZE_MAX) {
    // A fragmented NAL unit never got its end: cut it off and say so.
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

void H264Depacketizer::flush() { emit(); }

void H264Depacketizer::push(const Packet& packet) {
  ++stats_.packets;
  const int64_t sequence = sequences_.unwrap(packet.sequence);
  bool lost = false;
  if (last_sequence_) {
    if (sequence <= *last_sequence_) {
      ++stats_.bad_packets;  // duplicate or late: the reorder buffer should have fixed it
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
    if (fu_length_at_ != SIZE_MAX) {  // the fragments before the gap are useless
      current_.avcc.resize(fu_length_at_);
      fu_length_at_ = SIZE_MAX;
    }
  }

  const auto p = packet.payload;
  if (p.empty()) {
    ++stats_.bad_packets;
  } else {
    const uint8_t type = p[0] & 0x1f;
    if (type >= 1 && type <= 23) {
      append_nal(p);
    } else if (type == kStapA) {
      const bool whole = for_each_aggregated_nal(p.subspan(1), [&](std::span<const uint8_t> nal) {
        append_nal(nal);
        return true;
      });
      if (!whole) {
        ++stats_.bad_packets;
        current_.damaged = true;
      }
    } else if (type == kFuA) {
      if (p.size() < 3) {
        ++stats_.bad_packets;
        current_.damaged = true;
      } else {
        const bool start = p[1] & 0x80;
        const bool end = p[1] & 0x40;
        if (start) {
          if (fu_length_at_ != SIZE_MAX) {  // a new start while one is open: drop the old
            current_.avcc.resize(fu_length_at_);
            current_.damaged = true;
          }
          const uint8_t header = static_cast<uint8_t>((p[0] & 0xe0) | (p[1] & 0x1f));
          if ((header & 0x1f) == kIdr) current_.keyframe = true;
          if ((header & 0x1f) >= 1 && (header & 0x1f) <= kIdr) current_has_slice_ = true;
          fu_length_at_ = current_.avcc.size();
          current_.avcc.resize(fu_length_at_ + 4);
          current_.avcc.push_back(header);
        }
        if (fu_length_at_ == SIZE_MAX) {
          current_.damaged = true;  // a middle or end without its start
        } else {
          current_.avcc.insert(current_.avcc.end(), p.begin() + 2, p.end());
          if (end) {
            const size_t nal_size = current_.avcc.size() - fu_length_at_ - 4;
            put_u32(current_.avcc, fu_length_at_, static_cast<uint32_t>(nal_size));
            const uint8_t nal_type = current_.avcc[fu_length_at_ + 4] & 0x1f;
            const auto nal = std::span<const uint8_t>(current_.avcc).subspan(fu_length_at_ + 4);
            if (nal_type == kSps) sps_.assign(nal.begin(), nal.end());
            if (nal_type == kPps) pps_.assign(nal.begin(), nal.end());
            fu_length_at_ = SIZE_MAX;
          }
        }
      }
    } else if (type == kStapB || type == kMtap16 || type == kMtap24 || type == kFuB) {
      ++stats_.unsupported;
      current_.damaged = true;
    } else {
      ++stats_.bad_packets;  // 0, 30, 31: reserved
    }
  }
  if (packet.marker) emit();
}

bool for_each_avcc_nal(std::span<const uint8_t> avcc,
                       const std::function<void(std::span<const uint8_t>)>& fn) {
  size_t i = 0;
  while (i < avcc.size()) {
    if (i + 4 > avcc.size()) return false;
    const size_t size = (size_t{avcc[i]} << 24) | (size_t{avcc[i + 1]} << 16) |
                        (size_t{avcc[i + 2]} << 8) | avcc[i + 3];
    i += 4;
    if (size > avcc.size() - i) return false;
    if (size > 0) fn(avcc.subspan(i, size));
    i += size;
  }
  return true;
}

bool H264Packetizer::packetize(std::span<const uint8_t> avcc, uint32_t timestamp,
                               const Sink& sink) {
  std::vector<std::span<const uint8_t>> nals;
  if (!for_each_avcc_nal(avcc, [&](std::span<const uint8_t> nal) { nals.push_back(nal); })) {
    return false;
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
    const uint8_t indicator = static_cast<uint8_t>((nal[0] & 0xe0) | kFuA);
    const uint8_t type = nal[0] & 0x1f;
    size_t offset = 1;
    while (offset < nal.size()) {
      const size_t chunk = std::min(max_payload - 2, nal.size() - offset);
      const bool start = offset == 1;
      const bool end = offset + chunk == nal.size();
      payload_.clear();
      payload_.push_back(indicator);
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

std::vector<uint8_t> annexb_to_avcc(std::span<const uint8_t> b) {
  std::vector<uint8_t> out;
  // Positions of the NAL units between start codes (00 00 01 or 00 00 00 01).
  auto next_start = [&](size_t from, size_t* code_len) -> size_t {
    for (size_t i = from; i + 3 <= b.size(); ++i) {
      if (b[i] == 0 && b[i + 1] == 0 && b[i + 2] == 1) {
        *code_len = 3;
        return i;
      }
    }
    *code_len = 0;
    return b.size();
  };
  size_t code = 0;
  size_t start = next_start(0, &code);
  while (start < b.size()) {
    const size_t nal_begin = start + code;
    size_t next_code = 0;
    size_t next = next_start(nal_begin, &next_code);
    size_t nal_end = next;
    while (nal_end > nal_begin && b[nal_end - 1] == 0) --nal_end;  // trailing zeros / 4-byte code
    if (nal_end > nal_begin) {
      const size_t at = out.size();
      out.resize(at + 4);
      put_u32(out, at, static_cast<uint32_t>(nal_end - nal_begin));
      out.insert(out.end(), b.begin() + static_cast<long>(nal_begin),
                 b.begin() + static_cast<long>(nal_end));
    }
    start = next;
    code = next_code;
  }
  return out;
}

}  // namespace nj::media::rtp
