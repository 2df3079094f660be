#include "recording/clip.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <tuple>

#include "media/fmp4/demux.h"
#include "media/fmp4/muxer.h"

namespace nj::recording {
namespace {

// The fragment's samples that start before `end_ticks` (video ticks; audio converted),
// re-muxed: one moof + mdat per track, as the recorder writes them.
Result<std::vector<uint8_t>, std::string> cut_fragment(std::span<const uint8_t> bytes,
                                                       const media::fmp4::DemuxInit& init,
                                                       uint64_t end_ticks) {
  std::vector<uint8_t> out;
  for (size_t at = 0; at < bytes.size();) {
    auto part = media::fmp4::parse_fragment(bytes.subspan(at), init);
    if (!part) return Unexpected(std::string("a recorded fragment cannot be read"));
    std::vector<media::fmp4::Sample> kept;
    uint32_t track = 0;
    for (const auto& s : part->samples) {
      const auto* t = init.track(s.track_id);
      if (!t || t->timescale == 0) continue;
      const uint64_t limit = end_ticks * t->timescale / kTicksPerSecond;
      if (static_cast<uint64_t>(s.decode_time) >= limit) continue;
      if (s.offset > part->size || s.size > part->size - s.offset) {
        return Unexpected(std::string("a recorded sample lies outside its fragment"));
      }
      track = s.track_id;
      kept.push_back({s.decode_time, s.duration, s.composition_offset, s.keyframe,
                      bytes.subspan(at + s.offset, s.size)});
    }
    if (!kept.empty()) {
      const auto moof = media::fmp4::media_segment(part->sequence, track, kept);
      out.insert(out.end(), moof.begin(), moof.end());
    }
    at += part->size;
  }
  return out;
}

uint32_t be32(std::span<const uint8_t> b, size_t at) {
  return static_cast<uint32_t>(b[at]) << 24 | static_cast<uint32_t>(b[at + 1]) << 16 |
         static_cast<uint32_t>(b[at + 2]) << 8 | b[at + 3];
}

// The tfdt values of a fragment's moofs (video, then audio): for each, where its 8-byte
// decode time lies from the fragment's start, its track and its value. Reads only the moof
// headers, through `read(offset, length)`.
template <class Read>
std::optional<std::vector<std::tuple<uint64_t, uint32_t, uint64_t>>> tfdts(Read read,
                                                                           uint64_t size) {
  std::vector<std::tuple<uint64_t, uint32_t, uint64_t>> out;
  for (uint64_t at = 0; at + 8 <= size;) {
    const auto head = read(at, 8);
    if (!head || head->size() < 8) return std::nullopt;
    const uint32_t box = be32(*head, 0);
    if (box < 8 || box > size - at) return std::nullopt;
    if (std::memcmp(head->data() + 4, "moof", 4) == 0) {
      const auto moof = read(at, box);
      if (!moof || moof->size() < box) return std::nullopt;
      // moof: mfhd, traf: tfhd, tfdt (version 1: a 64-bit time), trun.
      for (size_t m = 8; m + 8 <= box;) {
        const uint32_t s = be32(*moof, m);
        if (s < 8 || s > box - m) return std::nullopt;
        if (std::memcmp(moof->data() + m + 4, "traf", 4) == 0) {
          uint32_t track = 0;
          for (size_t t = m + 8; t + 8 <= m + s;) {
            const uint32_t ts = be32(*moof, t);
            if (ts < 8 || ts > m + s - t) return std::nullopt;
            if (std::memcmp(moof->data() + t + 4, "tfhd", 4) == 0 && ts >= 16) {
              track = be32(*moof, t + 12);
            } else if (std::memcmp(moof->data() + t + 4, "tfdt", 4) == 0 && ts >= 20 &&
                       (*moof)[t + 8] == 1) {
              const uint64_t v =
                  static_cast<uint64_t>(be32(*moof, t + 12)) << 32 | be32(*moof, t + 16);
              out.emplace_back(at + t + 12, track, v);
            }
            t += ts;
          }
        }
        m += s;
      }
    }
    at += box;
  }
  return out;
}

}  // namespace

Result<ClipPlan, std::string> plan_clip(Store& store, const KeyLookup& keys,
                                        const std::vector<Segment>& segments, int64_t from_ms,
                                        int64_t to_ms) {
  ClipPlan plan;
  std::vector<uint8_t> init_bytes;
  std::optional<media::fmp4::DemuxInit> init;
  std::string run;
  uint64_t from_ticks = 0, end_ticks = 0;  // on the run's timeline
  struct Chosen {
    const Segment* segment;
    std::shared_ptr<SegmentReader> reader;
    uint64_t offset, start_ticks;
    FragmentEntry entry;
  };
  std::vector<Chosen> chosen;
  for (const auto& s : segments) {
    if (s.end_ms <= from_ms || s.start_ms >= to_ms || s.fragments.empty()) continue;
    auto reader = open_segment(store, s, keys);
    size_t index = 0;
    uint64_t offset = s.init_size, start = 0;  // start: ticks from the segment's start
    if (chosen.empty()) {
      const uint64_t within =
          from_ms > s.start_ms ? static_cast<uint64_t>(from_ms - s.start_ms) * 90 : 0;
      const auto at = seek(s.fragments, s.init_size, within);
      if (!at) continue;
      index = at->index;
      offset = at->offset;
      start = at->start_ticks;
      auto bytes = reader->read(0, s.init_size);
      if (!bytes || bytes->size() != s.init_size) return Unexpected(std::string("unreadable init"));
      init_bytes = std::move(*bytes);
      auto parsed = media::fmp4::parse_init(init_bytes);
      if (!parsed) return Unexpected(std::string("the recording's init cannot be read"));
      init = std::move(*parsed);
      run = s.run_id;
      from_ticks = static_cast<uint64_t>(s.start_ticks) + std::max(within, start);
    } else {
      // One run, one set of codec parameters: the clip ends where either changes.
      if (s.run_id != run) break;
      auto bytes = reader->read(0, s.init_size);
      if (!bytes || *bytes != init_bytes) break;
    }
    for (size_t i = index; i < s.fragments.size(); ++i) {
      if (s.start_ms + static_cast<int64_t>(start / 90) >= to_ms) break;
      chosen.push_back(
          {&s, reader, offset, static_cast<uint64_t>(s.start_ticks) + start, s.fragments[i]});
      offset += s.fragments[i].size;
      start += s.fragments[i].duration;
    }
  }
  if (chosen.empty() || !init) return Unexpected(std::string("nothing is recorded then"));

  // Where it ends: at `to`, or at the end of what the run recorded.
  const auto& last = chosen.back();
  const uint64_t last_end = last.start_ticks + last.entry.duration;
  const int64_t last_end_ms =
      last.segment->start_ms +
      static_cast<int64_t>((last_end - static_cast<uint64_t>(last.segment->start_ticks)) / 90);
  const uint64_t to_ticks =
      last.start_ticks +
      static_cast<uint64_t>(std::max<int64_t>(
          0, to_ms - (last.segment->start_ms +
                      static_cast<int64_t>(
                          (last.start_ticks - static_cast<uint64_t>(last.segment->start_ticks)) /
                          90)))) *
          90;
  end_ticks = std::min(last_end, to_ticks);
  plan.start_ms =
      chosen.front().segment->start_ms +
      static_cast<int64_t>(
          (from_ticks - static_cast<uint64_t>(chosen.front().segment->start_ticks)) / 90);
  plan.end_ms = std::min(to_ms, last_end_ms);
  if (end_ticks <= from_ticks) return Unexpected(std::string("nothing is recorded then"));

  const uint64_t first_ticks = chosen.front().start_ticks;
  for (size_t i = 0; i < chosen.size(); ++i) {
    const auto& c = chosen[i];
    ClipPlan::Piece piece{c.reader, c.offset, c.entry.size, nullptr, {}};
    if (i + 1 == chosen.size() && c.start_ticks + c.entry.duration > end_ticks) {
      auto bytes = c.reader->read(c.offset, c.entry.size);
      if (!bytes || bytes->size() != c.entry.size) {
        return Unexpected(std::string("a recorded fragment cannot be read"));
      }
      auto cut = cut_fragment(*bytes, *init, end_ticks);
      if (!cut) return Unexpected(cut.error());
      piece.size = cut->size();
      piece.bytes = std::make_shared<const std::vector<uint8_t>>(std::move(*cut));
    }
    // Decode times from 0 at the clip's first keyframe: a clip is a file of its own.
    const auto found =
        piece.bytes ? tfdts(
                          [&](uint64_t at, uint64_t n) -> std::optional<std::vector<uint8_t>> {
                            if (at + n > piece.bytes->size()) return std::nullopt;
                            const auto from = static_cast<std::ptrdiff_t>(at);
                            return std::vector<uint8_t>(
                                piece.bytes->begin() + from,
                                piece.bytes->begin() + from + static_cast<std::ptrdiff_t>(n));
                          },
                          piece.size)
                    : tfdts(
                          [&](uint64_t at, uint64_t n) -> std::optional<std::vector<uint8_t>> {
                            // Only the moof headers are looked at here; what is served is
                            // read (and its records' tags checked) when the clip is read.
                            auto r = piece.reader->peek(piece.offset + at, n);
                            if (!r) return std::nullopt;
                            return std::move(*r);
                          },
                          piece.size);
    if (!found) return Unexpected(std::string("a recorded fragment cannot be read"));
    for (const auto& [at, track, value] : *found) {
      const auto* t = init->track(track);
      const uint64_t base = t ? first_ticks * t->timescale / kTicksPerSecond : 0;
      piece.tfdt.emplace_back(at, value >= base ? value - base : 0);
    }
    plan.pieces.push_back(std::move(piece));
  }
  // Players start at `from`, not at the keyframe before it.
  std::map<uint32_t, int64_t> starts;
  for (const auto& t : init->tracks) {
    starts[t.track_id] =
        static_cast<int64_t>((from_ticks - first_ticks) * t.timescale / kTicksPerSecond);
  }
  auto head = media::fmp4::clip_init(init_bytes, starts,
                                     static_cast<uint64_t>((end_ticks - from_ticks) / 90));
  if (!head) return Unexpected(std::string("the recording's init cannot be rewritten"));
  plan.head = std::move(*head);
  plan.size = plan.head.size();
  for (const auto& p : plan.pieces) plan.size += p.size;
  return plan;
}

Result<std::vector<uint8_t>, std::string> read_clip(const ClipPlan& plan, uint64_t first,
                                                    uint64_t length) {
  std::vector<uint8_t> out;
  out.reserve(length);
  const uint64_t end = std::min(plan.size, first + length);
  uint64_t at = 0;  // where the current piece starts in the clip
  auto take = [&](std::span<const uint8_t> bytes) {
    const uint64_t a = std::max(first, at), b = std::min(end, at + bytes.size());
    if (a < b) {
      out.insert(out.end(), bytes.begin() + static_cast<std::ptrdiff_t>(a - at),
                 bytes.begin() + static_cast<std::ptrdiff_t>(b - at));
    }
  };
  // The rebased decode times, over whatever part of them this range holds.
  auto patch = [&](const ClipPlan::Piece& p, uint64_t piece_at) {
    for (const auto& [pos, value] : p.tfdt) {
      for (int i = 0; i < 8; ++i) {
        const uint64_t byte = piece_at + pos + static_cast<uint64_t>(i);
        if (byte >= first && byte < end) {
          out[byte - first] = static_cast<uint8_t>(value >> (56 - 8 * i));
        }
      }
    }
  };
  take(plan.head);
  at += plan.head.size();
  for (const auto& p : plan.pieces) {
    if (at >= end) break;
    if (at + p.size > first) {
      if (p.bytes) {
        take(*p.bytes);
      } else {
        const uint64_t a = std::max(first, at), b = std::min(end, at + p.size);
        auto bytes = p.reader->read(p.offset + (a - at), b - a);
        if (!bytes || bytes->size() != b - a) {
          return Unexpected(std::string("a recorded fragment cannot be read"));
        }
        out.insert(out.end(), bytes->begin(), bytes->end());
      }
      patch(p, at);
    }
    at += p.size;
  }
  return out;
}

}  // namespace nj::recording
