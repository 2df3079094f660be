// clip_init: box surgery on an init segment of ours (see muxer.h).
#include <string>

#include "media/fmp4/muxer.h"

namespace nj::media::fmp4 {
namespace {

uint32_t be32(std::span<const uint8_t> b, size_t at) {
  return static_cast<uint32_t>(b[at]) << 24 | static_cast<uint32_t>(b[at + 1]) << 16 |
         static_cast<uint32_t>(b[at + 2]) << 8 | b[at + 3];
}
void put32(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}
void put64(std::vector<uint8_t>& out, uint64_t v) {
  put32(out, static_cast<uint32_t>(v >> 32));
  put32(out, static_cast<uint32_t>(v));
}
void set32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

struct Box {
  std::string type;
  std::span<const uint8_t> whole, body;
};

// The boxes of `b`, or nullopt if one runs past the end (or uses a 64-bit size).
std::optional<std::vector<Box>> boxes(std::span<const uint8_t> b) {
  std::vector<Box> out;
  for (size_t at = 0; at < b.size();) {
    if (b.size() - at < 8) return std::nullopt;
    const uint32_t size = be32(b, at);
    if (size < 8 || size > b.size() - at) return std::nullopt;
    out.push_back({std::string(b.begin() + static_cast<std::ptrdiff_t>(at + 4),
                               b.begin() + static_cast<std::ptrdiff_t>(at + 8)),
                   b.subspan(at, size), b.subspan(at + 8, size - 8)});
    at += size;
  }
  return out;
}

// Writes a box from its type and body.
void put_box(std::vector<uint8_t>& out, const char* type, const std::vector<uint8_t>& body) {
  put32(out, static_cast<uint32_t>(body.size() + 8));
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), body.begin(), body.end());
}

}  // namespace

std::optional<std::vector<uint8_t>> clip_init(std::span<const uint8_t> init,
                                              const std::map<uint32_t, int64_t>& start_media_time,
                                              uint64_t duration_ms) {
  const auto top = boxes(init);
  if (!top) return std::nullopt;
  std::vector<uint8_t> out;
  bool seen_moov = false;
  for (const auto& box : *top) {
    if (box.type != "moov") {
      out.insert(out.end(), box.whole.begin(), box.whole.end());
      continue;
    }
    seen_moov = true;
    const auto kids = boxes(box.body);
    if (!kids) return std::nullopt;
    uint32_t movie_scale = 1000;
    std::vector<uint8_t> moov;
    for (const auto& kid : *kids) {
      if (kid.type == "mvhd" && kid.body.size() >= 20 && kid.body[0] == 0) {
        std::vector<uint8_t> body(kid.body.begin(), kid.body.end());
        movie_scale = be32(kid.body, 12);
        set32(body, 16, static_cast<uint32_t>(duration_ms * movie_scale / 1000));
        put_box(moov, "mvhd", body);
      } else if (kid.type == "trak") {
        const auto parts = boxes(kid.body);
        if (!parts) return std::nullopt;
        std::vector<uint8_t> trak;
        for (const auto& part : *parts) {
          if (part.type != "tkhd" || part.body.size() < 24 || part.body[0] != 0) {
            trak.insert(trak.end(), part.whole.begin(), part.whole.end());
            continue;
          }
          std::vector<uint8_t> tkhd(part.body.begin(), part.body.end());
          const uint32_t track_id = be32(part.body, 12);
          const uint64_t movie_duration = duration_ms * movie_scale / 1000;
          set32(tkhd, 20, static_cast<uint32_t>(movie_duration));
          put_box(trak, "tkhd", tkhd);
          // edts/elst (version 1): one edit, from the start instant, as long as the clip.
          const auto start = start_media_time.find(track_id);
          if (start != start_media_time.end()) {
            std::vector<uint8_t> elst;
            put32(elst, 0x01000000);  // version 1, flags 0
            put32(elst, 1);           // entry_count
            put64(elst, movie_duration);
            put64(elst, static_cast<uint64_t>(start->second));
            put32(elst, 0x00010000);  // media_rate 1.0
            std::vector<uint8_t> edts;
            put_box(edts, "elst", elst);
            put_box(trak, "edts", edts);
          }
        }
        put_box(moov, "trak", trak);
      } else if (kid.type == "mvex") {
        std::vector<uint8_t> mvex, mehd;
        put32(mehd, 0x01000000);  // version 1
        put64(mehd, duration_ms * movie_scale / 1000);
        put_box(mvex, "mehd", mehd);
        const auto parts = boxes(kid.body);
        if (!parts) return std::nullopt;
        for (const auto& part : *parts) {
          if (part.type != "mehd") mvex.insert(mvex.end(), part.whole.begin(), part.whole.end());
        }
        put_box(moov, "mvex", mvex);
      } else {
        moov.insert(moov.end(), kid.whole.begin(), kid.whole.end());
      }
    }
    put_box(out, "moov", moov);
  }
  if (!seen_moov) return std::nullopt;
  return out;
}

}  // namespace nj::media::fmp4
