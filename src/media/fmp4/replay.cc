#include "media/fmp4/replay.h"

#include <optional>

namespace nj::media::fmp4 {
namespace {

// A bounds-checked reader over a config box's body.
class Bytes {
 public:
  explicit Bytes(std::span<const uint8_t> b) : b_(b) {}
  bool has(size_t n) const { return n <= b_.size() - pos_; }
  std::optional<uint8_t> u8() {
    if (!has(1)) return std::nullopt;
    return b_[pos_++];
  }
  std::optional<uint16_t> u16() {
    if (!has(2)) return std::nullopt;
    const uint16_t v = static_cast<uint16_t>(b_[pos_] << 8 | b_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  std::optional<std::vector<uint8_t>> take(size_t n) {
    if (!has(n)) return std::nullopt;
    std::vector<uint8_t> out(b_.begin() + static_cast<std::ptrdiff_t>(pos_),
                             b_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
    pos_ += n;
    return out;
  }
  bool skip(size_t n) {
    if (!has(n)) return false;
    pos_ += n;
    return true;
  }

 private:
  std::span<const uint8_t> b_;
  size_t pos_ = 0;
};

// avcC (ISO/IEC 14496-15 §5.3.3): the first SPS and PPS.
Result<void, std::string> read_avcc(std::span<const uint8_t> body, hub::StreamInfo& info) {
  Bytes r(body);
  if (!r.skip(4)) return Unexpected(std::string("avcC is too short"));
  const auto length_size = r.u8();
  if (!length_size || (*length_size & 3) != 3) {
    return Unexpected(std::string("only 4-byte NAL lengths are replayed"));
  }
  const auto sps_count = r.u8();
  if (!sps_count) return Unexpected(std::string("avcC is too short"));
  for (int i = 0; i < (*sps_count & 0x1f); ++i) {
    const auto len = r.u16();
    auto nal = len ? r.take(*len) : std::nullopt;
    if (!nal) return Unexpected(std::string("avcC: an SPS runs past its end"));
    if (info.sps.empty()) info.sps = std::move(*nal);
  }
  const auto pps_count = r.u8();
  if (!pps_count) return Unexpected(std::string("avcC is too short"));
  for (int i = 0; i < *pps_count; ++i) {
    const auto len = r.u16();
    auto nal = len ? r.take(*len) : std::nullopt;
    if (!nal) return Unexpected(std::string("avcC: a PPS runs past its end"));
    if (info.pps.empty()) info.pps = std::move(*nal);
  }
  if (info.sps.empty() || info.pps.empty()) {
    return Unexpected(std::string("avcC has no SPS or PPS"));
  }
  return {};
}

// hvcC (ISO/IEC 14496-15 §8.3.3): the first VPS, SPS and PPS of its NAL unit arrays.
Result<void, std::string> read_hvcc(std::span<const uint8_t> body, hub::StreamInfo& info) {
  Bytes r(body);
  if (!r.skip(21)) return Unexpected(std::string("hvcC is too short"));
  const auto length_size = r.u8();
  if (!length_size || (*length_size & 3) != 3) {
    return Unexpected(std::string("only 4-byte NAL lengths are replayed"));
  }
  const auto arrays = r.u8();
  if (!arrays) return Unexpected(std::string("hvcC is too short"));
  for (int a = 0; a < *arrays; ++a) {
    const auto type = r.u8();
    const auto count = r.u16();
    if (!type || !count) return Unexpected(std::string("hvcC: an array runs past its end"));
    for (int i = 0; i < *count; ++i) {
      const auto len = r.u16();
      auto nal = len ? r.take(*len) : std::nullopt;
      if (!nal) return Unexpected(std::string("hvcC: a NAL unit runs past its end"));
      auto& slot = (*type & 0x3f) == 32   ? info.vps
                   : (*type & 0x3f) == 33 ? info.sps
                   : (*type & 0x3f) == 34 ? info.pps
                                          : info.audio_config;  // not kept (cleared below)
      if (slot.empty()) slot = std::move(*nal);
    }
  }
  info.audio_config.clear();
  if (info.vps.empty() || info.sps.empty() || info.pps.empty()) {
    return Unexpected(std::string("hvcC lacks a VPS, SPS or PPS"));
  }
  return {};
}

// An MPEG-4 descriptor header (ISO/IEC 14496-1 §8.3.3): a tag and a length of up to four
// 7-bit groups.
std::optional<std::pair<uint8_t, size_t>> descriptor(Bytes& r) {
  const auto tag = r.u8();
  if (!tag) return std::nullopt;
  size_t length = 0;
  for (int i = 0; i < 4; ++i) {
    const auto b = r.u8();
    if (!b) return std::nullopt;
    length = length << 7 | (*b & 0x7f);
    if (!(*b & 0x80)) return std::make_pair(*tag, length);
  }
  return std::nullopt;
}

// esds: the AudioSpecificConfig inside ES_Descriptor → DecoderConfigDescriptor →
// DecoderSpecificInfo.
std::optional<std::vector<uint8_t>> read_esds(std::span<const uint8_t> body) {
  Bytes r(body);
  if (!r.skip(4)) return std::nullopt;  // version and flags
  auto es = descriptor(r);
  if (!es || es->first != 0x03) return std::nullopt;
  const auto es_id = r.u16();
  const auto flags = r.u8();
  if (!es_id || !flags) return std::nullopt;
  if ((*flags & 0x80) && !r.skip(2)) return std::nullopt;  // dependsOn_ES_ID
  if (*flags & 0x40) {                                     // URL
    const auto len = r.u8();
    if (!len || !r.skip(*len)) return std::nullopt;
  }
  if ((*flags & 0x20) && !r.skip(2)) return std::nullopt;  // OCR_ES_Id
  auto dc = descriptor(r);
  if (!dc || dc->first != 0x04 || !r.skip(13)) return std::nullopt;
  auto dsi = descriptor(r);
  if (!dsi || dsi->first != 0x05 || dsi->second == 0 || dsi->second > 64) return std::nullopt;
  return r.take(dsi->second);
}

}  // namespace

Result<ReplayTracks, std::string> replay_tracks(const DemuxInit& init) {
  ReplayTracks out;
  for (const auto& t : init.tracks) {
    if (t.timescale == 0) continue;
    if (t.handler == "vide" && out.video_track == 0) {
      if (t.codec == "avc1" || t.codec == "avc3") {
        out.info.video_codec = "H264";
        if (auto ok = read_avcc(t.config, out.info); !ok) return Unexpected(ok.error());
      } else if (t.codec == "hvc1" || t.codec == "hev1") {
        out.info.video_codec = "H265";
        if (auto ok = read_hvcc(t.config, out.info); !ok) return Unexpected(ok.error());
      } else {
        return Unexpected("video in " + t.codec + " cannot be replayed");
      }
      out.video_track = t.track_id;
      out.video_timescale = t.timescale;
      out.info.width = t.width;
      out.info.height = t.height;
    } else if (t.handler == "soun" && out.audio_track == 0) {
      if (t.codec == "mp4a") {
        auto config = read_esds(t.config);
        if (!config) continue;  // audio we cannot describe is left out, the video plays
        out.info.audio_codec = "AAC";
        out.info.audio_config = std::move(*config);
      } else if (t.codec == "Opus") {
        out.info.audio_codec = "OPUS";
      } else {
        continue;  // FLAC (G.711 made playable for browsers): not carried by the hub
      }
      out.audio_track = t.track_id;
      out.audio_timescale = t.timescale;
      out.info.audio_sample_rate = t.sample_rate ? t.sample_rate : t.timescale;
      out.info.audio_channels = t.channels ? t.channels : 1;
    }
  }
  if (out.video_track == 0) return Unexpected(std::string("no video track"));
  return out;
}

std::optional<hub::Frame> replay_frame(const ReplayTracks& tracks, const DemuxSample& sample,
                                       std::span<const uint8_t> fragment) {
  const bool video = sample.track_id == tracks.video_track;
  if (!video && (tracks.audio_track == 0 || sample.track_id != tracks.audio_track)) {
    return std::nullopt;
  }
  if (sample.offset > fragment.size() || sample.size > fragment.size() - sample.offset) {
    return std::nullopt;
  }
  hub::Frame f;
  f.track = video ? hub::TrackKind::kVideo : hub::TrackKind::kAudio;
  f.keyframe = video && sample.keyframe;
  const int64_t pts = sample.decode_time + sample.composition_offset;
  const uint32_t scale = video ? tracks.video_timescale : tracks.audio_timescale;
  const int64_t clock = video ? 90'000 : tracks.info.audio_sample_rate;
  // pts * clock / scale without overflow for any realistic time.
  f.timestamp = scale == static_cast<uint32_t>(clock)
                    ? pts
                    : static_cast<int64_t>(static_cast<__int128>(pts) * clock / scale);
  const auto begin = fragment.begin() + static_cast<std::ptrdiff_t>(sample.offset);
  f.data.assign(begin, begin + sample.size);
  return f;
}

}  // namespace nj::media::fmp4
