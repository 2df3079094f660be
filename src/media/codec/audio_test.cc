#include "media/codec/audio.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace nj::media::codec {
namespace {

TEST(G711, DecodesTheTableEnds) {
  EXPECT_EQ(ulaw_to_pcm(0xff), 0);
  EXPECT_EQ(ulaw_to_pcm(0x7f), 0);
  EXPECT_EQ(ulaw_to_pcm(0x00), -32124);
  EXPECT_EQ(ulaw_to_pcm(0x80), 32124);
  EXPECT_EQ(alaw_to_pcm(0xd5), 8);
  EXPECT_EQ(alaw_to_pcm(0x55), -8);
  EXPECT_EQ(alaw_to_pcm(0xaa), 32256);
  EXPECT_EQ(alaw_to_pcm(0x2a), -32256);
  // Monotonic over each half of the µ-law code space.
  for (int u = 0x01; u < 0x80; ++u) EXPECT_GT(ulaw_to_pcm(u), ulaw_to_pcm(u - 1) - 1) << u;
}

TEST(G711, EncodingFindsTheCodeOfEachDecodedValue) {
  for (int a = 0; a < 256; ++a) {
    EXPECT_EQ(pcm_to_alaw(alaw_to_pcm(static_cast<uint8_t>(a))), a) << a;
  }
  for (int u = 0; u < 256; ++u) {
    if (u == 0x7f) continue;  // "−0": 0 encodes as 0xff
    EXPECT_EQ(pcm_to_ulaw(ulaw_to_pcm(static_cast<uint8_t>(u))), u) << u;
  }
  // Between codes, the nearer one; the ends are clipped.
  EXPECT_EQ(pcm_to_ulaw(32767), 0x80);
  EXPECT_EQ(pcm_to_ulaw(-32768), 0x00);
  EXPECT_EQ(pcm_to_alaw(32767), 0xaa);
  EXPECT_EQ(pcm_to_alaw(-32768), 0x2a);
  for (int pcm = -32768; pcm < 32768; pcm += 7) {
    const auto p = static_cast<int16_t>(pcm);
    EXPECT_LE(std::abs(alaw_to_pcm(pcm_to_alaw(p)) - pcm), 512) << pcm;
    EXPECT_LE(std::abs(ulaw_to_pcm(pcm_to_ulaw(p)) - pcm), 1024) << pcm;
  }
}

TEST(Opus, PacketDurationsFromTheToc) {
  EXPECT_EQ(opus_packet_samples(std::vector<uint8_t>{0xfc}), 960u);         // CELT FB 20 ms
  EXPECT_EQ(opus_packet_samples(std::vector<uint8_t>{0x0b << 3}), 2880u);   // SILK 60 ms
  EXPECT_EQ(opus_packet_samples(std::vector<uint8_t>{0xfd, 0}), 1920u);     // two frames
  EXPECT_EQ(opus_packet_samples(std::vector<uint8_t>{0xff, 0x03}), 2880u);  // three frames
  EXPECT_FALSE(opus_packet_samples(std::vector<uint8_t>{0xff, 0x07}));      // 140 ms: too long
  EXPECT_FALSE(opus_packet_samples(std::vector<uint8_t>{0xff}));
  EXPECT_FALSE(opus_packet_samples({}));
}

// FLAC written here decodes, sample for sample, with FFmpeg's decoder.
TEST(Flac, FramesDecodeBackToTheSamples) {
  std::vector<int16_t> samples(8000);
  for (size_t i = 0; i < samples.size(); ++i) {
    samples[i] = static_cast<int16_t>(12000 * std::sin(2 * M_PI * 440 * i / 8000.0));
  }
  std::vector<uint8_t> file = {'f', 'L', 'a', 'C', 0x80, 0, 0, 34};  // last block: STREAMINFO
  const auto info = flac_streaminfo(8000, 1, 160, 160);
  ASSERT_EQ(info.size(), 34u);
  file.insert(file.end(), info.begin(), info.end());
  for (size_t at = 0; at < samples.size(); at += 160) {
    const auto frame = flac_frame(std::span(samples).subspan(at, 160), 8000, at);
    file.insert(file.end(), frame.begin(), frame.end());
  }
  const auto dir = std::filesystem::temp_directory_path();
  const auto in = dir / ("nj-flac-" + std::to_string(::getpid()) + ".flac");
  const auto out = dir / ("nj-flac-" + std::to_string(::getpid()) + ".raw");
  std::ofstream(in, std::ios::binary)
      .write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(file.size()));
  const std::string command = "ffmpeg -v error -y -i '" + in.string() +
                              "' -f s16le -acodec pcm_s16le '" + out.string() + "' 2>&1";
  FILE* p = ::popen(command.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string errors;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p)) errors += buf;
  const int rc = ::pclose(p);
  EXPECT_EQ(rc, 0) << errors;
  EXPECT_EQ(errors, "");
  std::ifstream raw(out, std::ios::binary);
  std::vector<int16_t> decoded(samples.size() + 1);
  raw.read(reinterpret_cast<char*>(decoded.data()),
           static_cast<std::streamsize>(decoded.size() * 2));
  EXPECT_EQ(raw.gcount(), static_cast<std::streamsize>(samples.size() * 2));
  decoded.resize(samples.size());
  EXPECT_EQ(decoded, samples);
  std::filesystem::remove(in);
  std::filesystem::remove(out);
}

}  // namespace
}  // namespace nj::media::codec
