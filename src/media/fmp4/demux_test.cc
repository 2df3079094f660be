#include "media/fmp4/demux.h"

#include <gtest/gtest.h>

#include "media/fmp4/muxer.h"

namespace nj::media::fmp4 {
namespace {

const std::vector<uint8_t> kSps = {0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f,
                                   0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00,
                                   0x00, 0x03, 0x00, 0x32, 0x0f, 0x16, 0x2d, 0x96};
const std::vector<uint8_t> kPps = {0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0};

std::vector<uint8_t> sample_bytes(uint8_t type, size_t size) {
  std::vector<uint8_t> out = {0, 0, uint8_t(size >> 8), uint8_t(size), type};
  for (size_t i = 1; i < size; ++i) out.push_back(static_cast<uint8_t>(i * 7));
  return out;
}

void append(std::vector<uint8_t>& to, const std::vector<uint8_t>& bytes) {
  to.insert(to.end(), bytes.begin(), bytes.end());
}

// An init segment (H.264 + AAC) and two fragments: video with a B-frame offset, then audio.
struct Stream {
  std::vector<uint8_t> bytes;
  size_t init_size = 0, first_fragment_size = 0;
  std::vector<std::vector<uint8_t>> video, audio;
  Stream() {
    H264Track v;
    v.width = 640;
    v.height = 360;
    v.sps = kSps;
    v.pps = kPps;
    AudioTrack a;
    a.sample_rate = 48000;
    a.channels = 2;
    a.config = {0x11, 0x90};
    bytes = init_segment(v, &a);
    init_size = bytes.size();
    video = {sample_bytes(0x65, 3000), sample_bytes(0x41, 400), sample_bytes(0x41, 500)};
    const Sample vs[] = {{90000, 3600, 3600, true, video[0]},
                         {93600, 3600, 0, false, video[1]},
                         {97200, 3600, 7200, false, video[2]}};
    append(bytes, media_segment(1, 1, vs));
    first_fragment_size = bytes.size() - init_size;
    audio = {std::vector<uint8_t>(300, 0xA1), std::vector<uint8_t>(280, 0xA2)};
    const Sample as[] = {{48000, 1024, 0, true, audio[0]}, {49024, 1024, 0, true, audio[1]}};
    append(bytes, media_segment(2, 2, as));
  }
};

TEST(Fmp4Demux, ReadsBackWhatTheMuxerWrote) {
  Stream s;
  const auto d = demux(s.bytes);
  ASSERT_FALSE(d.error) << demux_error_name(*d.error);
  EXPECT_EQ(d.complete, s.bytes.size());
  ASSERT_EQ(d.init.tracks.size(), 2u);
  const auto& video = d.init.tracks[0];
  EXPECT_EQ(video.track_id, 1u);
  EXPECT_EQ(video.handler, "vide");
  EXPECT_EQ(video.codec, "avc1");
  EXPECT_EQ(video.timescale, 90000u);
  EXPECT_EQ(video.width, 640u);
  EXPECT_EQ(video.height, 360u);
  ASSERT_GT(video.config.size(), 8u);
  EXPECT_EQ(video.config[0], 1);  // avcC version
  EXPECT_EQ(video.config[1], kSps[1]);
  const auto& audio = d.init.tracks[1];
  EXPECT_EQ(audio.handler, "soun");
  EXPECT_EQ(audio.codec, "mp4a");
  EXPECT_EQ(audio.timescale, 48000u);
  EXPECT_EQ(audio.sample_rate, 48000u);
  EXPECT_EQ(audio.channels, 2u);
  EXPECT_FALSE(audio.config.empty());  // the esds

  ASSERT_EQ(d.fragments.size(), 2u);
  const auto& f1 = d.fragments[0];
  EXPECT_EQ(f1.sequence, 1u);
  EXPECT_EQ(f1.size, s.first_fragment_size);
  ASSERT_EQ(f1.samples.size(), 3u);
  const size_t f1_at = s.init_size;
  for (size_t i = 0; i < 3; ++i) {
    const auto& sample = f1.samples[i];
    EXPECT_EQ(sample.track_id, 1u);
    EXPECT_EQ(sample.decode_time, 90000 + 3600 * static_cast<int64_t>(i));
    EXPECT_EQ(sample.duration, 3600u);
    EXPECT_EQ(sample.keyframe, i == 0);
    ASSERT_EQ(sample.size, s.video[i].size());
    EXPECT_TRUE(std::equal(s.video[i].begin(), s.video[i].end(),
                           s.bytes.begin() + static_cast<long>(f1_at + sample.offset)));
  }
  EXPECT_EQ(f1.samples[0].composition_offset, 3600);
  EXPECT_EQ(f1.samples[2].composition_offset, 7200);
  const auto& f2 = d.fragments[1];
  ASSERT_EQ(f2.samples.size(), 2u);
  EXPECT_EQ(f2.samples[1].track_id, 2u);
  EXPECT_EQ(f2.samples[1].decode_time, 49024);
  EXPECT_EQ(f2.samples[1].size, 280u);
}

TEST(Fmp4Demux, AStreamCutAnywhereKeepsItsWholeFragments) {
  Stream s;
  const size_t second_end = s.bytes.size();
  const size_t first_end = s.init_size + s.first_fragment_size;
  for (size_t cut = 0; cut < s.bytes.size(); ++cut) {
    const auto d = demux(std::span<const uint8_t>(s.bytes).first(cut));
    const size_t expected = cut >= second_end    ? second_end
                            : cut >= first_end   ? first_end
                            : cut >= s.init_size ? s.init_size
                                                 : 0;
    ASSERT_EQ(d.complete, expected) << "cut at " << cut;
    if (cut != expected) {
      ASSERT_TRUE(d.error) << "cut at " << cut;
    }
    if (cut > s.init_size && cut != first_end) {
      EXPECT_EQ(*d.error, DemuxError::kTruncated) << "cut at " << cut;
    }
  }
}

// Finds a box by its type in a flat byte string (for editing fields in tests).
size_t find_type(const std::vector<uint8_t>& b, const char* type, size_t from = 0) {
  for (size_t i = from; i + 4 <= b.size(); ++i) {
    if (std::equal(type, type + 4, b.begin() + static_cast<long>(i))) return i - 4;
  }
  return std::string::npos;
}

void put_u32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

TEST(Fmp4Demux, HostileFragmentsAreRefused) {
  Stream s;
  const auto init = parse_init(std::span<const uint8_t>(s.bytes).first(s.init_size));
  ASSERT_TRUE(init);
  const std::vector<uint8_t> fragment(
      s.bytes.begin() + static_cast<long>(s.init_size),
      s.bytes.begin() + static_cast<long>(s.init_size + s.first_fragment_size));
  const size_t trun = find_type(fragment, "trun");
  const size_t tfhd = find_type(fragment, "tfhd");
  ASSERT_NE(trun, std::string::npos);

  auto huge_count = fragment;
  put_u32(huge_count, trun + 12, 0xffffffff);  // sample_count
  EXPECT_EQ(parse_fragment(huge_count, *init).error(), DemuxError::kTooManySamples);

  auto bigger_than_mdat = fragment;
  put_u32(bigger_than_mdat, trun + 24, 0x00ffffff);  // the first sample's size
  EXPECT_EQ(parse_fragment(bigger_than_mdat, *init).error(), DemuxError::kSampleOutOfRange);

  auto wild_offset = fragment;
  put_u32(wild_offset, trun + 16, 0x80000000);  // data_offset far before the moof
  EXPECT_EQ(parse_fragment(wild_offset, *init).error(), DemuxError::kSampleOutOfRange);

  auto stranger = fragment;
  put_u32(stranger, tfhd + 12, 9);  // track 9 is not in the init segment
  EXPECT_EQ(parse_fragment(stranger, *init).error(), DemuxError::kUnknownTrack);

  auto tiny_box = fragment;
  put_u32(tiny_box, trun, 4);  // smaller than a box header
  EXPECT_EQ(parse_fragment(tiny_box, *init).error(), DemuxError::kBadBox);

  const std::vector<uint8_t> mdat_first = {0, 0, 0, 8, 'm', 'd', 'a', 't'};
  EXPECT_EQ(parse_fragment(mdat_first, *init).error(), DemuxError::kBadBox);
  EXPECT_EQ(parse_init(mdat_first).error(), DemuxError::kNoMovie);
}

}  // namespace
}  // namespace nj::media::fmp4
