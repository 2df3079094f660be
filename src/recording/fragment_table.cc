#include "recording/fragment_table.h"

namespace nj::recording {
namespace {

void put_varint(std::vector<uint8_t>& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

std::optional<uint64_t> get_varint(std::span<const uint8_t> in, size_t& at) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (at >= in.size()) return std::nullopt;
    const uint8_t b = in[at++];
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  return std::nullopt;
}

}  // namespace

void append_fragment(std::vector<uint8_t>& table, const FragmentEntry& entry) {
  put_varint(table, static_cast<uint64_t>(entry.duration) << 1 | (entry.keyframe ? 1 : 0));
  put_varint(table, entry.size);
}

std::vector<uint8_t> encode_fragments(std::span<const FragmentEntry> entries) {
  std::vector<uint8_t> out;
  out.reserve(entries.size() * 6);
  for (const auto& e : entries) append_fragment(out, e);
  return out;
}

Result<std::vector<FragmentEntry>, std::string> decode_fragments(std::span<const uint8_t> table) {
  std::vector<FragmentEntry> out;
  size_t at = 0;
  while (at < table.size()) {
    const auto first = get_varint(table, at);
    const auto size = first ? get_varint(table, at) : std::nullopt;
    if (!first || !size) return Unexpected(std::string("the fragment table is cut short"));
    if ((*first >> 1) > UINT32_MAX || *size > UINT32_MAX) {
      return Unexpected(std::string("the fragment table holds an impossible entry"));
    }
    out.push_back(
        {static_cast<uint32_t>(*first >> 1), static_cast<uint32_t>(*size), (*first & 1) != 0});
  }
  return out;
}

std::optional<FragmentPosition> seek(std::span<const FragmentEntry> entries, uint64_t init_size,
                                     uint64_t ticks) {
  std::optional<FragmentPosition> best;
  FragmentPosition at{0, init_size, 0};
  for (size_t i = 0; i < entries.size(); ++i) {
    at.index = i;
    if (entries[i].keyframe) {
      if (at.start_ticks <= ticks || !best) best = at;
      if (at.start_ticks > ticks) break;
    }
    at.offset += entries[i].size;
    at.start_ticks += entries[i].duration;
  }
  return best;
}

}  // namespace nj::recording
