#include "media/fmp4/muxer.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace nj::media::fmp4 {
namespace {

struct Box {
  std::string type;
  size_t offset, size;
};

uint32_t u32(const std::vector<uint8_t>& b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) |
         b[at + 3];
}

// Walks the box tree (containers listed below) and returns every box with its path.
void walk(const std::vector<uint8_t>& b, size_t from, size_t to, const std::string& prefix,
          std::map<std::string, Box>& out) {
  static const std::string kContainers = "moov trak mdia minf dinf stbl mvex moof traf";
  size_t at = from;
  while (at < to) {
    ASSERT_LE(at + 8, to);
    const size_t size = u32(b, at);
    const std::string type(b.begin() + static_cast<long>(at) + 4,
                           b.begin() + static_cast<long>(at) + 8);
    ASSERT_GE(size, 8u) << type;
    ASSERT_LE(at + size, to) << type << " overruns its parent";
    const std::string path = prefix + "/" + type;
    out[path] = Box{type, at, size};
    if (kContainers.find(type) != std::string::npos) walk(b, at + 8, at + size, path, out);
    at += size;
  }
  ASSERT_EQ(at, to);
}

TEST(Fmp4, InitSegmentHasTheBoxesMseNeeds) {
  H264Track t{H264Track::Codec::kH264, 1, 90000, 640, 360, {0x67, 0x64, 0x00, 0x1e, 0xac},
              {0x68, 0xeb, 0xe3},      {}};
  const auto init = init_segment(t);
  std::map<std::string, Box> boxes;
  walk(init, 0, init.size(), "", boxes);
  for (const char* path :
       {"/ftyp", "/moov/mvhd", "/moov/trak/tkhd", "/moov/trak/mdia/mdhd", "/moov/trak/mdia/hdlr",
        "/moov/trak/mdia/minf/vmhd", "/moov/trak/mdia/minf/stbl/stsd", "/moov/mvex/trex"}) {
    EXPECT_TRUE(boxes.contains(path)) << path;
  }
  // tkhd width and height are 16.16 fixed point at the end of the box.
  const auto& tkhd = boxes["/moov/trak/tkhd"];
  EXPECT_EQ(u32(init, tkhd.offset + tkhd.size - 8), 640u << 16);
  EXPECT_EQ(u32(init, tkhd.offset + tkhd.size - 4), 360u << 16);
}

TEST(Fmp4, MediaSegmentOffsetsPointAtTheSamples) {
  const std::vector<uint8_t> a = {0, 0, 0, 2, 0x65, 1}, b = {0, 0, 0, 3, 0x41, 2, 3};
  const Sample samples[] = {{9000, 3600, 0, true, a}, {12600, 3600, 0, false, b}};
  const auto seg = media_segment(7, 1, samples);
  std::map<std::string, Box> boxes;
  walk(seg, 0, seg.size(), "", boxes);
  ASSERT_TRUE(boxes.contains("/moof/traf/trun"));
  ASSERT_TRUE(boxes.contains("/mdat"));
  EXPECT_EQ(u32(seg, boxes["/moof/mfhd"].offset + 12), 7u);
  const auto& trun = boxes["/moof/traf/trun"];
  EXPECT_EQ(u32(seg, trun.offset + 12), 2u);  // sample_count
  const uint32_t data_offset = u32(seg, trun.offset + 16);
  EXPECT_EQ(data_offset, boxes["/mdat"].offset + 8) << "first sample right after the mdat header";
  EXPECT_EQ(std::vector<uint8_t>(seg.begin() + data_offset, seg.begin() + data_offset + 6), a);
  // tfdt (version 1) carries the first decode time.
  const auto& tfdt = boxes["/moof/traf/tfdt"];
  EXPECT_EQ(u32(seg, tfdt.offset + 16), 9000u);
  // Sample flags: sync, then non-sync.
  EXPECT_EQ(u32(seg, trun.offset + 28), 0x02000000u);
  EXPECT_EQ(u32(seg, trun.offset + 40), 0x01010000u);
}

}  // namespace
}  // namespace nj::media::fmp4
