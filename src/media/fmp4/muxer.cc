#include "media/fmp4/muxer.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "media/codec/h265_sps.h"

namespace nj::media::fmp4 {
namespace {

// Appends big-endian fields and nested boxes whose sizes are patched when they close.
class Writer {
 public:
  explicit Writer(std::vector<uint8_t>& out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) {
    u8(static_cast<uint8_t>(v >> 8));
    u8(static_cast<uint8_t>(v));
  }
  void u32(uint32_t v) {
    u16(static_cast<uint16_t>(v >> 16));
    u16(static_cast<uint16_t>(v));
  }
  void u64(uint64_t v) {
    u32(static_cast<uint32_t>(v >> 32));
    u32(static_cast<uint32_t>(v));
  }
  void zeros(size_t n) { out_.insert(out_.end(), n, 0); }
  void bytes(std::span<const uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void fourcc(std::string_view t) { out_.insert(out_.end(), t.begin(), t.begin() + 4); }
  size_t begin(std::string_view type) {
    const size_t at = out_.size();
    u32(0);
    fourcc(type);
    return at;
  }
  size_t begin_full(std::string_view type, uint8_t version, uint32_t flags) {
    const size_t at = begin(type);
    u32((uint32_t{version} << 24) | (flags & 0xffffff));
    return at;
  }
  void end(size_t at) { patch_u32(at, static_cast<uint32_t>(out_.size() - at)); }
  void patch_u32(size_t at, uint32_t v) {
    out_[at] = static_cast<uint8_t>(v >> 24);
    out_[at + 1] = static_cast<uint8_t>(v >> 16);
    out_[at + 2] = static_cast<uint8_t>(v >> 8);
    out_[at + 3] = static_cast<uint8_t>(v);
  }
  size_t size() const { return out_.size(); }
  void matrix() {
    for (uint32_t v : {0x00010000u, 0u, 0u, 0u, 0x00010000u, 0u, 0u, 0u, 0x40000000u}) u32(v);
  }

 private:
  std::vector<uint8_t>& out_;
};

}  // namespace

namespace {

void write_mvhd(Writer& w, uint32_t next_track_id) {
  const size_t mvhd = w.begin_full("mvhd", 0, 0);
  w.u32(0);  // creation_time
  w.u32(0);  // modification_time
  w.u32(1000);
  w.u32(0);           // duration: unknown (fragmented)
  w.u32(0x00010000);  // rate 1.0
  w.u16(0x0100);      // volume 1.0
  w.zeros(10);
  w.matrix();
  w.zeros(24);  // pre_defined
  w.u32(next_track_id);
  w.end(mvhd);
}

void write_tkhd(Writer& w, uint32_t track_id, bool audio, uint32_t width, uint32_t height) {
  const size_t tkhd = w.begin_full("tkhd", 0, 0x3);  // enabled, in movie
  w.u32(0);
  w.u32(0);
  w.u32(track_id);
  w.u32(0);  // reserved
  w.u32(0);  // duration
  w.zeros(8);
  w.u16(0);                   // layer
  w.u16(audio ? 1 : 0);       // alternate_group
  w.u16(audio ? 0x0100 : 0);  // volume
  w.u16(0);
  w.matrix();
  w.u32(width << 16);
  w.u32(height << 16);
  w.end(tkhd);
}

void write_mdhd_hdlr(Writer& w, uint32_t timescale, bool audio) {
  const size_t mdhd = w.begin_full("mdhd", 0, 0);
  w.u32(0);
  w.u32(0);
  w.u32(timescale);
  w.u32(0);
  w.u16(0x55c4);  // language "und"
  w.u16(0);
  w.end(mdhd);
  const size_t hdlr = w.begin_full("hdlr", 0, 0);
  w.u32(0);
  w.fourcc(audio ? "soun" : "vide");
  w.zeros(12);
  static constexpr uint8_t kVideo[] = "VideoHandler";  // with its NUL
  static constexpr uint8_t kAudio[] = "SoundHandler";
  w.bytes(audio ? std::span<const uint8_t>(kAudio) : std::span<const uint8_t>(kVideo));
  w.end(hdlr);
}

void write_dinf(Writer& w) {
  const size_t dinf = w.begin("dinf");
  const size_t dref = w.begin_full("dref", 0, 0);
  w.u32(1);
  const size_t url = w.begin_full("url ", 0, 1);  // media in the same file
  w.end(url);
  w.end(dref);
  w.end(dinf);
}

void write_empty_sample_tables(Writer& w) {
  for (auto empty : {"stts", "stsc", "stco"}) {
    const size_t box = w.begin_full(empty, 0, 0);
    w.u32(0);
    w.end(box);
  }
  const size_t stsz = w.begin_full("stsz", 0, 0);
  w.u32(0);
  w.u32(0);
  w.end(stsz);
}

// HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3), from the SPS, with one VPS,
// SPS and PPS.
void write_hvcc(Writer& w, const H264Track& t) {
  const auto sps = codec::parse_h265_sps(t.sps);
  const size_t hvcc = w.begin("hvcC");
  w.u8(1);  // configurationVersion
  if (sps) {
    w.bytes(sps->general_ptl);  // profile space, tier, profile, flags, level: 12 bytes
  } else {
    w.zeros(12);
  }
  w.u16(0xf000);  // min_spatial_segmentation_idc: unknown
  w.u8(0xfc);     // parallelismType: unknown
  w.u8(static_cast<uint8_t>(0xfc | (sps ? sps->chroma_format_idc : 1)));
  w.u8(static_cast<uint8_t>(0xf8 | ((sps ? sps->bit_depth_luma : 8) - 8)));
  w.u8(static_cast<uint8_t>(0xf8 | ((sps ? sps->bit_depth_chroma : 8) - 8)));
  w.u16(0);  // avgFrameRate: unknown
  const uint8_t layers = sps ? sps->max_sub_layers : 1;
  const bool nested = sps && sps->temporal_id_nested;
  w.u8(static_cast<uint8_t>((layers & 7) << 3 | (nested ? 4 : 0) | 3));  // 4-byte lengths
  w.u8(3);
  for (const auto* nal : {&t.vps, &t.sps, &t.pps}) {
    const uint8_t type = nal->empty() ? 0 : (((*nal)[0] >> 1) & 0x3f);
    w.u8(static_cast<uint8_t>(0x80 | type));  // array_completeness: all of them are here
    w.u16(1);
    w.u16(static_cast<uint16_t>(nal->size()));
    w.bytes(*nal);
  }
  w.end(hvcc);
}

void write_video_trak(Writer& w, const H264Track& t) {
  const size_t trak = w.begin("trak");
  write_tkhd(w, t.track_id, false, t.width, t.height);
  const size_t mdia = w.begin("mdia");
  write_mdhd_hdlr(w, t.timescale, false);
  const size_t minf = w.begin("minf");
  const size_t vmhd = w.begin_full("vmhd", 0, 1);
  w.zeros(8);  // graphicsmode, opcolor
  w.end(vmhd);
  write_dinf(w);
  const size_t stbl = w.begin("stbl");
  const size_t stsd = w.begin_full("stsd", 0, 0);
  w.u32(1);
  const bool hevc = t.codec == H264Track::Codec::kH265;
  const size_t avc1 = w.begin(hevc ? "hvc1" : "avc1");
  w.zeros(6);
  w.u16(1);  // data_reference_index
  w.zeros(16);
  w.u16(static_cast<uint16_t>(t.width));
  w.u16(static_cast<uint16_t>(t.height));
  w.u32(0x00480000);  // 72 dpi
  w.u32(0x00480000);
  w.u32(0);
  w.u16(1);     // frame_count
  w.zeros(32);  // compressorname
  w.u16(0x0018);
  w.u16(0xffff);
  if (hevc) {
    write_hvcc(w, t);
    w.end(avc1);
  } else {
    const size_t avcc = w.begin("avcC");
    w.u8(1);
    w.u8(t.sps.size() > 1 ? t.sps[1] : 0);  // profile
    w.u8(t.sps.size() > 2 ? t.sps[2] : 0);  // compatibility
    w.u8(t.sps.size() > 3 ? t.sps[3] : 0);  // level
    w.u8(0xff);                             // 4-byte NAL lengths
    w.u8(0xe1);                             // one SPS
    w.u16(static_cast<uint16_t>(t.sps.size()));
    w.bytes(t.sps);
    w.u8(1);  // one PPS
    w.u16(static_cast<uint16_t>(t.pps.size()));
    w.bytes(t.pps);
    w.end(avcc);
    w.end(avc1);
  }
  w.end(stsd);
  write_empty_sample_tables(w);
  w.end(stbl);
  w.end(minf);
  w.end(mdia);
  w.end(trak);
}

// An MPEG-4 descriptor header (ISO/IEC 14496-1): tag and a one-byte size (all ours are small).
void descriptor(Writer& w, uint8_t tag, size_t size) {
  w.u8(tag);
  w.u8(static_cast<uint8_t>(size));
}

void write_esds(Writer& w, const AudioTrack& t) {
  const size_t esds = w.begin_full("esds", 0, 0);
  const size_t config = t.config.size();
  descriptor(w, 0x03, 3 + (2 + 13 + (2 + config)) + (2 + 1));  // ES_Descriptor
  w.u16(0);                                                    // ES_ID
  w.u8(0);                                                     // flags
  descriptor(w, 0x04, 13 + 2 + config);                        // DecoderConfigDescriptor
  w.u8(0x40);                                                  // Audio ISO/IEC 14496-3
  w.u8(0x15);                                                  // audio stream
  w.u8(0);                                                     // bufferSizeDB (24 bits)
  w.u16(0);
  w.u32(0);                     // maxBitrate
  w.u32(0);                     // avgBitrate
  descriptor(w, 0x05, config);  // DecoderSpecificInfo: the AudioSpecificConfig
  w.bytes(t.config);
  descriptor(w, 0x06, 1);  // SLConfigDescriptor
  w.u8(0x02);
  w.end(esds);
}

// Opus in ISO BMFF (the Opus mapping's dOps box), channel mapping family 0.
void write_dops(Writer& w, const AudioTrack& t) {
  const size_t dops = w.begin("dOps");
  w.u8(0);  // version
  w.u8(static_cast<uint8_t>(t.channels));
  w.u16(0);  // pre-skip: a live stream joined midway has none to skip
  w.u32(t.sample_rate);
  w.u16(0);  // output gain
  w.u8(0);   // mapping family 0: mono or stereo
  w.end(dops);
}

// FLAC in ISO BMFF: dfLa holds the STREAMINFO block, marked as the last metadata block.
void write_dfla(Writer& w, const AudioTrack& t) {
  const size_t dfla = w.begin_full("dfLa", 0, 0);
  w.u8(0x80);  // last metadata block, type 0 (STREAMINFO)
  w.u8(0);
  w.u16(static_cast<uint16_t>(t.config.size()));
  w.bytes(t.config);
  w.end(dfla);
}

void write_audio_trak(Writer& w, const AudioTrack& t) {
  const size_t trak = w.begin("trak");
  write_tkhd(w, t.track_id, true, 0, 0);
  const size_t mdia = w.begin("mdia");
  write_mdhd_hdlr(w, t.sample_rate, true);
  const size_t minf = w.begin("minf");
  const size_t smhd = w.begin_full("smhd", 0, 0);
  w.u32(0);  // balance, reserved
  w.end(smhd);
  write_dinf(w);
  const size_t stbl = w.begin("stbl");
  const size_t stsd = w.begin_full("stsd", 0, 0);
  w.u32(1);
  const char* entry = t.codec == AudioTrack::Codec::kAac    ? "mp4a"
                      : t.codec == AudioTrack::Codec::kOpus ? "Opus"
                                                            : "fLaC";
  const size_t sample_entry = w.begin(entry);
  w.zeros(6);
  w.u16(1);  // data_reference_index
  w.zeros(8);
  w.u16(t.channels);
  w.u16(16);  // sample size
  w.u32(0);   // pre_defined, reserved
  w.u32(t.sample_rate << 16);
  switch (t.codec) {
    case AudioTrack::Codec::kAac:
      write_esds(w, t);
      break;
    case AudioTrack::Codec::kOpus:
      write_dops(w, t);
      break;
    case AudioTrack::Codec::kFlac:
      write_dfla(w, t);
      break;
  }
  w.end(sample_entry);
  w.end(stsd);
  write_empty_sample_tables(w);
  w.end(stbl);
  w.end(minf);
  w.end(mdia);
  w.end(trak);
}

void write_trex(Writer& w, uint32_t track_id) {
  const size_t trex = w.begin_full("trex", 0, 0);
  w.u32(track_id);
  w.u32(1);  // default_sample_description_index
  w.u32(0);
  w.u32(0);
  w.u32(0);
  w.end(trex);
}

}  // namespace

std::vector<uint8_t> init_segment(const H264Track& video, const AudioTrack* audio) {
  std::vector<uint8_t> out;
  out.reserve(1200 + video.vps.size() + video.sps.size() + video.pps.size());
  Writer w(out);
  const size_t ftyp = w.begin("ftyp");
  w.fourcc("iso5");
  w.u32(512);
  for (auto brand : {"iso5", "iso6", "mp41"}) w.fourcc(brand);
  w.fourcc(video.codec == H264Track::Codec::kH265 ? "hvc1" : "avc1");
  w.end(ftyp);

  const size_t moov = w.begin("moov");
  write_mvhd(w, std::max(video.track_id, audio ? audio->track_id : 0) + 1);
  write_video_trak(w, video);
  if (audio) write_audio_trak(w, *audio);
  const size_t mvex = w.begin("mvex");
  write_trex(w, video.track_id);
  if (audio) write_trex(w, audio->track_id);
  w.end(mvex);
  w.end(moov);
  return out;
}

std::vector<uint8_t> media_segment(uint32_t sequence_number, uint32_t track_id,
                                   std::span<const Sample> samples) {
  size_t payload = 0;
  bool offsets = false;
  for (const auto& s : samples) {
    payload += s.data.size();
    offsets = offsets || s.composition_offset != 0;
  }
  std::vector<uint8_t> out;
  out.reserve(120 + samples.size() * 16 + payload);
  Writer w(out);
  const size_t moof = w.begin("moof");
  const size_t mfhd = w.begin_full("mfhd", 0, 0);
  w.u32(sequence_number);
  w.end(mfhd);
  const size_t traf = w.begin("traf");
  const size_t tfhd = w.begin_full("tfhd", 0, 0x020000);  // default-base-is-moof
  w.u32(track_id);
  w.end(tfhd);
  const size_t tfdt = w.begin_full("tfdt", 1, 0);
  w.u64(static_cast<uint64_t>(samples.empty() ? 0 : samples.front().decode_time));
  w.end(tfdt);
  // data-offset, sample duration, size, flags (and composition offsets when needed).
  const uint32_t flags = 0x000001 | 0x000100 | 0x000200 | 0x000400 | (offsets ? 0x000800 : 0);
  const size_t trun = w.begin_full("trun", offsets ? 1 : 0, flags);
  w.u32(static_cast<uint32_t>(samples.size()));
  const size_t data_offset_at = w.size();
  w.u32(0);
  for (const auto& s : samples) {
    w.u32(s.duration);
    w.u32(static_cast<uint32_t>(s.data.size()));
    // Sync sample: depends on nothing; otherwise depends on others and is not a sync sample.
    w.u32(s.keyframe ? 0x02000000 : 0x01010000);
    if (offsets) w.u32(static_cast<uint32_t>(s.composition_offset));
  }
  w.end(trun);
  w.end(traf);
  w.end(moof);
  const size_t mdat = w.begin("mdat");
  w.patch_u32(data_offset_at, static_cast<uint32_t>(w.size() - moof));  // from moof start
  for (const auto& s : samples) w.bytes(s.data);
  w.end(mdat);
  return out;
}

}  // namespace nj::media::fmp4
