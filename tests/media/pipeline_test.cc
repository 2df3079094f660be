// The media path with real peers: H.264 from ffmpeg (libx264) → RTP packets (our
// packetizer) → access units (our depacketizer) → fMP4 (our muxer) → ffprobe, which must
// find every frame with the right codec, size and rate, and report no error.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "integration/fixture.h"
#include "media/codec/h264_sps.h"
#include "media/fmp4/muxer.h"
#include "media/rtp/h264.h"

namespace nj::media {
namespace {
namespace fs = std::filesystem;

std::vector<uint8_t> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Splits Annex B at access unit delimiters (x264 writes one per picture with aud=1).
std::vector<std::vector<uint8_t>> split_access_units(const std::vector<uint8_t>& annexb) {
  std::vector<size_t> starts;
  for (size_t i = 0; i + 4 < annexb.size(); ++i) {
    if (annexb[i] == 0 && annexb[i + 1] == 0 && annexb[i + 2] == 1 && (annexb[i + 3] & 0x1f) == 9) {
      starts.push_back(i > 0 && annexb[i - 1] == 0 ? i - 1 : i);
    }
  }
  starts.push_back(annexb.size());
  std::vector<std::vector<uint8_t>> units;
  for (size_t k = 0; k + 1 < starts.size(); ++k) {
    units.push_back(rtp::annexb_to_avcc(
        std::span<const uint8_t>(annexb).subspan(starts[k], starts[k + 1] - starts[k])));
  }
  return units;
}

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("nj-pipeline-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(PipelineTest, FfmpegH264ThroughRtpIntoFmp4PassesFfprobe) {
  const auto h264 = dir_ / "in.h264";
  int status = 0;
  testing::run_command(
      "ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=640x360:rate=25 -t 4 -c:v libx264 "
      "-pix_fmt yuv420p -bf 0 -g 25 -x264-params aud=1 -f h264 '" +
          h264.string() + "' 2>&1",
      &status);
  ASSERT_EQ(status, 0) << "ffmpeg could not make the test clip";
  const auto units = split_access_units(read_file(h264));
  ASSERT_EQ(units.size(), 100u);

  // Through RTP and back: every access unit must come out as it went in.
  rtp::H264Packetizer packetizer(96, 0x1234, 40000, 1400);
  std::vector<rtp::H264AccessUnit> received;
  rtp::H264Depacketizer depacketizer(
      [&](rtp::H264AccessUnit&& au) { received.push_back(std::move(au)); });
  uint32_t ts = 0;
  for (const auto& au : units) {
    ASSERT_TRUE(packetizer.packetize(
        au, ts, [&](std::span<const uint8_t> packet) { depacketizer.push(*rtp::parse(packet)); }));
    ts += 3600;
  }
  depacketizer.flush();
  ASSERT_EQ(received.size(), units.size());
  size_t keyframes = 0;
  for (size_t i = 0; i < units.size(); ++i) {
    EXPECT_EQ(received[i].avcc, units[i]) << i;
    EXPECT_FALSE(received[i].damaged);
    keyframes += received[i].keyframe;
  }
  EXPECT_EQ(keyframes, 4u) << "one keyframe a second";

  // Into fMP4, one fragment per access unit as the live path will do.
  const auto sps = codec::parse_h264_sps(depacketizer.sps());
  ASSERT_TRUE(sps);
  EXPECT_EQ(sps->codec_string(), "avc1.64001e");
  fmp4::H264Track track{fmp4::H264Track::Codec::kH264,
                        1,
                        90000,
                        sps->width,
                        sps->height,
                        depacketizer.sps(),
                        depacketizer.pps(),
                        {}};
  auto file = fmp4::init_segment(track);
  for (size_t i = 0; i < received.size(); ++i) {
    const fmp4::Sample sample{received[i].timestamp, 3600, 0, received[i].keyframe,
                              received[i].avcc};
    const auto segment = fmp4::media_segment(static_cast<uint32_t>(i + 1), 1, {&sample, 1});
    file.insert(file.end(), segment.begin(), segment.end());
  }
  const auto mp4 = dir_ / "out.mp4";
  std::ofstream(mp4, std::ios::binary)
      .write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(file.size()));

  const auto errors =
      testing::run_command("ffprobe -v error -i '" + mp4.string() + "' 2>&1 >/dev/null");
  EXPECT_EQ(errors, "") << "ffprobe reported errors";
  const auto probe = nlohmann::json::parse(
      testing::run_command(
          "ffprobe -v error -count_frames -select_streams v:0 -show_entries "
          "stream=codec_name,width,height,nb_read_frames,avg_frame_rate,duration -of json '" +
          mp4.string() + "'"),
      nullptr, false);
  ASSERT_TRUE(probe.is_object());
  const auto& stream = probe["streams"][0];
  EXPECT_EQ(stream["codec_name"], "h264");
  EXPECT_EQ(stream["width"], 640);
  EXPECT_EQ(stream["height"], 360);
  EXPECT_EQ(stream["nb_read_frames"], "100");
  EXPECT_EQ(stream["avg_frame_rate"], "25/1");
}

}  // namespace
}  // namespace nj::media
