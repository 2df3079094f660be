#include "media/fmp4/demux.h"

#include <algorithm>

namespace nj::media::fmp4 {
namespace {

constexpr size_t kMaxSamples = 1 << 20;  // per fragment: ~10 hours of 25 fps video

// A bounds-checked big-endian reader over one box's body.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  bool has(size_t n) const { return at_ <= bytes_.size() && n <= bytes_.size() - at_; }
  bool skip(size_t n) {
    if (!has(n)) return false;
    at_ += n;
    return true;
  }
  bool u8(uint8_t& v) {
    if (!has(1)) return false;
    v = bytes_[at_++];
    return true;
  }
  bool u16(uint16_t& v) {
    if (!has(2)) return false;
    v = static_cast<uint16_t>(bytes_[at_] << 8 | bytes_[at_ + 1]);
    at_ += 2;
    return true;
  }
  bool u32(uint32_t& v) {
    if (!has(4)) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | bytes_[at_++];
    return true;
  }
  bool u64(uint64_t& v) {
    if (!has(8)) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | bytes_[at_++];
    return true;
  }
  // version and flags of a full box
  bool full(uint8_t& version, uint32_t& flags) {
    uint32_t word = 0;
    if (!u32(word)) return false;
    version = static_cast<uint8_t>(word >> 24);
    flags = word & 0xffffff;
    return true;
  }
  size_t at() const { return at_; }
  std::span<const uint8_t> rest() const { return bytes_.subspan(std::min(at_, bytes_.size())); }

 private:
  std::span<const uint8_t> bytes_;
  size_t at_ = 0;
};

struct Box {
  std::string type;
  size_t offset = 0;  // of the header, within the bytes walked
  size_t size = 0;    // header included
  std::span<const uint8_t> body;
};

// The next box at `at`; kTruncated if it does not fit, kBadBox if its size is impossible.
Result<Box, DemuxError> next_box(std::span<const uint8_t> bytes, size_t at) {
  if (bytes.size() - at < 8) return Unexpected(DemuxError::kTruncated);
  Reader r(bytes.subspan(at));
  uint32_t size32 = 0;
  r.u32(size32);
  Box box;
  box.type.assign(reinterpret_cast<const char*>(bytes.data() + at + 4), 4);
  box.offset = at;
  size_t header = 8;
  uint64_t size = size32;
  if (size32 == 1) {
    r.skip(4);
    if (!r.u64(size)) return Unexpected(DemuxError::kTruncated);
    header = 16;
  } else if (size32 == 0) {
    size = bytes.size() - at;  // to the end
  }
  if (size < header) return Unexpected(DemuxError::kBadBox);
  if (size > bytes.size() - at) return Unexpected(DemuxError::kTruncated);
  box.size = static_cast<size_t>(size);
  box.body = bytes.subspan(at + header, box.size - header);
  return box;
}

// The children of a container box's body; stops at the first broken one.
Result<std::vector<Box>, DemuxError> children(std::span<const uint8_t> body) {
  std::vector<Box> out;
  for (size_t at = 0; at < body.size();) {
    auto box = next_box(body, at);
    if (!box)
      return Unexpected(box.error() == DemuxError::kTruncated ? DemuxError::kBadBox : box.error());
    at += box->size;
    out.push_back(std::move(*box));
  }
  return out;
}

const Box* find(const std::vector<Box>& boxes, std::string_view type) {
  for (const auto& b : boxes) {
    if (b.type == type) return &b;
  }
  return nullptr;
}

// stsd's first sample entry: the codec, the picture or sound, and the codec's config box.
bool parse_sample_entry(const Box& stsd, DemuxTrack& track) {
  Reader r(stsd.body);
  uint8_t version = 0;
  uint32_t flags = 0, count = 0;
  if (!r.full(version, flags) || !r.u32(count) || count == 0) return false;
  auto entry = next_box(r.rest(), 0);
  if (!entry) return false;
  track.codec = entry->type;
  Reader e(entry->body);
  size_t fields = 0;
  if (track.handler == "vide") {
    uint16_t width = 0, height = 0;
    if (!e.skip(24) || !e.u16(width) || !e.u16(height)) return false;
    track.width = width;
    track.height = height;
    fields = 78;
  } else if (track.handler == "soun") {
    uint16_t channels = 0;
    uint32_t rate = 0;
    if (!e.skip(16) || !e.u16(channels) || !e.skip(6) || !e.u32(rate)) return false;
    track.channels = channels;
    track.sample_rate = rate >> 16;
    fields = 28;
  } else {
    return true;  // a track we do not read further
  }
  if (entry->body.size() < fields) return false;
  auto kids = children(entry->body.subspan(fields));
  if (!kids) return false;
  for (const char* type : {"avcC", "hvcC", "esds", "dOps", "dfLa"}) {
    if (const Box* b = find(*kids, type)) track.config.assign(b->body.begin(), b->body.end());
  }
  return true;
}

Result<DemuxTrack, DemuxError> parse_trak(const Box& trak) {
  const auto bad = Unexpected(DemuxError::kBadBox);
  auto kids = children(trak.body);
  if (!kids) return Unexpected(kids.error());
  DemuxTrack track;
  const Box* tkhd = find(*kids, "tkhd");
  const Box* mdia = find(*kids, "mdia");
  if (!tkhd || !mdia) return bad;
  Reader t(tkhd->body);
  uint8_t version = 0;
  uint32_t flags = 0;
  if (!t.full(version, flags) || !t.skip(version == 1 ? 16 : 8) || !t.u32(track.track_id)) {
    return bad;
  }
  auto media = children(mdia->body);
  if (!media) return Unexpected(media.error());
  const Box* mdhd = find(*media, "mdhd");
  const Box* hdlr = find(*media, "hdlr");
  if (!mdhd || !hdlr) return bad;
  Reader m(mdhd->body);
  if (!m.full(version, flags) || !m.skip(version == 1 ? 16 : 8) || !m.u32(track.timescale) ||
      track.timescale == 0) {
    return bad;
  }
  Reader h(hdlr->body);
  if (!h.full(version, flags) || !h.skip(4) || !h.has(4)) return bad;
  track.handler.assign(reinterpret_cast<const char*>(h.rest().data()), 4);
  const Box* minf = find(*media, "minf");
  if (!minf) return bad;
  auto info = children(minf->body);
  if (!info) return Unexpected(info.error());
  const Box* stbl = find(*info, "stbl");
  if (!stbl) return bad;
  auto tables = children(stbl->body);
  if (!tables) return Unexpected(tables.error());
  const Box* stsd = find(*tables, "stsd");
  if (!stsd || !parse_sample_entry(*stsd, track)) return bad;
  return track;
}

struct Defaults {
  uint32_t duration = 0, size = 0, flags = 0;
};

bool is_sync(uint32_t sample_flags) { return (sample_flags & 0x00010000) == 0; }

// One traf: its samples appended to `out`, offsets from the moof's start.
std::optional<DemuxError> parse_traf(const Box& traf, const DemuxInit& init, size_t moof_offset,
                                     std::vector<DemuxSample>& out) {
  auto kids = children(traf.body);
  if (!kids) return kids.error();
  const Box* tfhd = find(*kids, "tfhd");
  if (!tfhd) return DemuxError::kBadBox;
  Reader r(tfhd->body);
  uint8_t version = 0;
  uint32_t flags = 0, track_id = 0;
  if (!r.full(version, flags) || !r.u32(track_id)) return DemuxError::kBadBox;
  const DemuxTrack* track = init.track(track_id);
  if (!track) return DemuxError::kUnknownTrack;
  Defaults d{track->default_duration, track->default_size, track->default_flags};
  // Offsets are from the moof unless the fragment gives an explicit base, which is taken
  // from the start of the bytes given (a whole fragment, as we write and read them).
  uint64_t base = moof_offset;
  uint32_t ignored = 0;
  if ((flags & 0x000001) && !r.u64(base)) return DemuxError::kBadBox;
  if ((flags & 0x000002) && !r.u32(ignored)) return DemuxError::kBadBox;
  if ((flags & 0x000008) && !r.u32(d.duration)) return DemuxError::kBadBox;
  if ((flags & 0x000010) && !r.u32(d.size)) return DemuxError::kBadBox;
  if ((flags & 0x000020) && !r.u32(d.flags)) return DemuxError::kBadBox;

  int64_t decode_time = 0;
  if (const Box* tfdt = find(*kids, "tfdt")) {
    Reader t(tfdt->body);
    if (!t.full(version, flags)) return DemuxError::kBadBox;
    if (version == 1) {
      uint64_t v = 0;
      if (!t.u64(v)) return DemuxError::kBadBox;
      decode_time = static_cast<int64_t>(v & 0x7fffffffffffffffULL);
    } else {
      uint32_t v = 0;
      if (!t.u32(v)) return DemuxError::kBadBox;
      decode_time = v;
    }
  }
  uint64_t data_at = base;  // where the next trun's samples start when it gives no offset
  for (const auto& box : *kids) {
    if (box.type != "trun") continue;
    Reader t(box.body);
    uint32_t count = 0;
    if (!t.full(version, flags) || !t.u32(count)) return DemuxError::kBadBox;
    if (count > kMaxSamples || out.size() + count > kMaxSamples) return DemuxError::kTooManySamples;
    if (flags & 0x000001) {
      uint32_t offset = 0;
      if (!t.u32(offset)) return DemuxError::kBadBox;
      const int64_t at = static_cast<int64_t>(base) + static_cast<int32_t>(offset);
      if (at < 0) return DemuxError::kSampleOutOfRange;
      data_at = static_cast<uint64_t>(at);
    }
    uint32_t first_flags = d.flags;
    const bool has_first_flags = flags & 0x000004;
    if (has_first_flags && !t.u32(first_flags)) return DemuxError::kBadBox;
    const size_t per_sample = 4 * (((flags & 0x100) != 0) + ((flags & 0x200) != 0) +
                                   ((flags & 0x400) != 0) + ((flags & 0x800) != 0));
    if (per_sample > 0 && !t.has(per_sample * static_cast<size_t>(count))) {
      return DemuxError::kBadBox;
    }
    for (uint32_t i = 0; i < count; ++i) {
      DemuxSample s;
      s.track_id = track_id;
      s.duration = d.duration;
      s.size = d.size;
      uint32_t sample_flags = (i == 0 && has_first_flags) ? first_flags : d.flags;
      uint32_t cto = 0;
      if (flags & 0x100) t.u32(s.duration);
      if (flags & 0x200) t.u32(s.size);
      if (flags & 0x400) t.u32(sample_flags);
      if (flags & 0x800) t.u32(cto);
      s.composition_offset = version == 0 ? static_cast<int32_t>(std::min<uint32_t>(cto, INT32_MAX))
                                          : static_cast<int32_t>(cto);
      s.keyframe = is_sync(sample_flags);
      s.decode_time = decode_time;
      s.offset = data_at;
      decode_time += s.duration;
      data_at += s.size;
      out.push_back(s);
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view demux_error_name(DemuxError e) {
  switch (e) {
    case DemuxError::kTruncated:
      return "truncated";
    case DemuxError::kBadBox:
      return "bad box";
    case DemuxError::kNoMovie:
      return "no movie";
    case DemuxError::kUnknownTrack:
      return "unknown track";
    case DemuxError::kSampleOutOfRange:
      return "sample out of range";
    case DemuxError::kTooManySamples:
      return "too many samples";
  }
  return "unknown";
}

const DemuxTrack* DemuxInit::track(uint32_t track_id) const {
  for (const auto& t : tracks) {
    if (t.track_id == track_id) return &t;
  }
  return nullptr;
}

Result<DemuxInit, DemuxError> parse_init(std::span<const uint8_t> bytes) {
  auto top = children(bytes);
  if (!top) return Unexpected(top.error());
  const Box* moov = find(*top, "moov");
  if (!moov) return Unexpected(DemuxError::kNoMovie);
  auto kids = children(moov->body);
  if (!kids) return Unexpected(kids.error());
  DemuxInit init;
  for (const auto& box : *kids) {
    if (box.type != "trak") continue;
    auto track = parse_trak(box);
    if (!track) return Unexpected(track.error());
    init.tracks.push_back(std::move(*track));
  }
  if (init.tracks.empty()) return Unexpected(DemuxError::kNoMovie);
  if (const Box* mvex = find(*kids, "mvex")) {
    auto extends = children(mvex->body);
    if (!extends) return Unexpected(extends.error());
    for (const auto& box : *extends) {
      if (box.type != "trex") continue;
      Reader r(box.body);
      uint8_t version = 0;
      uint32_t flags = 0, track_id = 0, description = 0;
      Defaults d;
      if (!r.full(version, flags) || !r.u32(track_id) || !r.u32(description) ||
          !r.u32(d.duration) || !r.u32(d.size) || !r.u32(d.flags)) {
        return Unexpected(DemuxError::kBadBox);
      }
      for (auto& t : init.tracks) {
        if (t.track_id != track_id) continue;
        t.default_duration = d.duration;
        t.default_size = d.size;
        t.default_flags = d.flags;
      }
    }
  }
  return init;
}

Result<DemuxFragment, DemuxError> parse_fragment(std::span<const uint8_t> bytes,
                                                 const DemuxInit& init) {
  DemuxFragment fragment;
  size_t at = 0;
  std::optional<Box> moof;
  uint64_t data_begin = 0, data_end = 0;  // the body of the mdat after the moof
  while (at < bytes.size()) {
    auto box = next_box(bytes, at);
    if (!box) return Unexpected(box.error());
    at += box->size;
    if (!moof) {
      if (box->type == "moof") {
        moof = std::move(*box);
      } else if (box->type == "mdat" || box->type == "moov") {
        return Unexpected(DemuxError::kBadBox);  // media before its moof
      }
      continue;
    }
    if (box->type == "moof") return Unexpected(DemuxError::kBadBox);  // a moof without mdat
    if (box->type == "mdat") {
      data_begin = static_cast<uint64_t>(box->body.data() - bytes.data());
      data_end = at;
      break;
    }
  }
  if (!moof || data_end == 0) return Unexpected(DemuxError::kTruncated);
  auto kids = children(moof->body);
  if (!kids) return Unexpected(kids.error());
  if (const Box* mfhd = find(*kids, "mfhd")) {
    Reader r(mfhd->body);
    uint8_t version = 0;
    uint32_t flags = 0;
    if (!r.full(version, flags) || !r.u32(fragment.sequence)) {
      return Unexpected(DemuxError::kBadBox);
    }
  }
  for (const auto& box : *kids) {
    if (box.type != "traf") continue;
    if (auto error = parse_traf(box, init, moof->offset, fragment.samples)) {
      return Unexpected(*error);
    }
  }
  for (const auto& s : fragment.samples) {
    if (s.offset < data_begin || s.offset > data_end || s.size > data_end - s.offset) {
      return Unexpected(DemuxError::kSampleOutOfRange);
    }
  }
  fragment.size = data_end;
  return fragment;
}

Demuxed demux(std::span<const uint8_t> bytes) {
  Demuxed out;
  // The init segment: everything up to and including moov.
  size_t at = 0;
  while (at < bytes.size()) {
    auto box = next_box(bytes, at);
    if (!box) {
      out.error = box.error();
      return out;
    }
    at += box->size;
    if (box->type == "moov") break;
  }
  auto init = parse_init(bytes.subspan(0, at));
  if (!init) {
    out.error = init.error();
    return out;
  }
  out.init = std::move(*init);
  out.complete = at;
  while (at < bytes.size()) {
    auto fragment = parse_fragment(bytes.subspan(at), out.init);
    if (!fragment) {
      out.error = fragment.error();
      return out;
    }
    at += fragment->size;
    out.complete = at;
    out.fragments.push_back(std::move(*fragment));
  }
  return out;
}

}  // namespace nj::media::fmp4
