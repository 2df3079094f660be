#include "api/recordings.h"

#include <gtest/gtest.h>

namespace nj::api {
namespace {

recording::Segment segment(int64_t id, const std::string& run, int64_t start_ms, int fragments,
                           uint64_t start_ticks) {
  recording::Segment s;
  s.id = id;
  s.run_id = run;
  s.start_ms = start_ms;
  s.start_ticks = static_cast<int64_t>(start_ticks);
  s.init_size = 700;
  for (int i = 0; i < fragments; ++i) {
    s.fragments.push_back({180'000, 1000u + static_cast<uint32_t>(i), true});
  }
  s.end_ms = start_ms + fragments * 2000;
  s.bytes = 700 + fragments * 1000;
  return s;
}

TEST(PlaybackPlaylist, StartsAtTheKeyframeBeforeAndSaysWhereToBegin) {
  const int64_t t0 = 1'795'000'000'000;
  // Two segments of one run, then (after a gap) another run.
  const std::vector<recording::Segment> segments = {segment(1, "a", t0, 5, 0),
                                                    segment(2, "a", t0 + 10'000, 5, 900'000),
                                                    segment(3, "b", t0 + 60'000, 5, 0)};
  const auto playlist = playback_playlist(segments, t0 + 3'500, t0 + 70'000, [](const auto& s) {
    return "recordings/" + std::to_string(s.id) + ".mp4";
  });
  // The fragment holding 3.5 s starts at 2 s: 1.5 s to skip.
  EXPECT_NE(playlist.find("#EXT-X-START:TIME-OFFSET=1.500,PRECISE=YES\n"), std::string::npos)
      << playlist;
  EXPECT_NE(playlist.find("#EXT-X-MAP:URI=\"recordings/1.mp4\",BYTERANGE=\"700@0\"\n"
                          "#EXT-X-PROGRAM-DATE-TIME:2026-11-18T11:06:42.000Z\n"
                          "#EXTINF:2.000,\n#EXT-X-BYTERANGE:1001@1700\nrecordings/1.mp4\n"),
            std::string::npos)
      << playlist;
  EXPECT_EQ(playlist.find("#EXT-X-BYTERANGE:1000@700\nrecordings/1.mp4"), std::string::npos)
      << "the first fragment (0-2 s) is before the range";
  // One discontinuity: between the runs, not between the files of one run.
  size_t count = 0;
  for (size_t at = 0; (at = playlist.find("#EXT-X-DISCONTINUITY", at)) != std::string::npos; ++at) {
    ++count;
  }
  EXPECT_EQ(count, 1u);
  EXPECT_LT(playlist.find("recordings/2.mp4"), playlist.find("#EXT-X-DISCONTINUITY"));
  // Up to 70 s: run b's first five fragments (60-70 s).
  EXPECT_NE(playlist.find("#EXT-X-BYTERANGE:1004@4706\nrecordings/3.mp4"), std::string::npos);
  EXPECT_TRUE(playlist.ends_with("#EXT-X-ENDLIST\n"));
  EXPECT_TRUE(playback_playlist(segments, t0 + 20'000, t0 + 50'000,
                                [](const auto&) { return std::string("x"); })
                  .empty())
      << "nothing recorded in the gap";
}

TEST(StreamedDownloads, EachPieceIsReadFromItsOffsetAndEndsWhenAccessEnds) {
  bool allowed = true;
  std::vector<std::pair<uint64_t, uint64_t>> reads;
  const auto body = streamed_download(
      1000, 3000, [&] { return allowed; },
      [&](uint64_t at, uint64_t n) -> std::optional<std::vector<uint8_t>> {
        reads.emplace_back(at, n);
        if (at + n > 3500) return std::vector<uint8_t>(n - 1, 7);  // the file was cut short
        return std::vector<uint8_t>(n, static_cast<uint8_t>(at / 1000));
      });
  EXPECT_EQ(body->size, 3000u);
  const auto piece = body->read(0, 1000);
  ASSERT_TRUE(piece);
  EXPECT_EQ(*piece, std::string(1000, '\1')) << "bytes 1000.. of the resource";
  EXPECT_EQ(reads.back(), std::make_pair(uint64_t{1000}, uint64_t{1000}));
  EXPECT_FALSE(body->read(2000, 1000)) << "a short read is no piece";
  allowed = false;  // the share was revoked, say
  const size_t before = reads.size();
  EXPECT_FALSE(body->read(1000, 1000));
  EXPECT_EQ(reads.size(), before) << "nothing is read for someone who may not see it";
}

TEST(ByteRanges, OneRangeIsServedAndBadOnesAreRefused) {
  EXPECT_FALSE(*parse_range(std::nullopt, 100));
  auto r = parse_range("bytes=10-19", 100);
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->first, 10u);
  EXPECT_EQ((*r)->last, 19u);
  r = parse_range("bytes=90-", 100);
  EXPECT_EQ((*r)->last, 99u);
  r = parse_range("bytes=-5", 100);
  EXPECT_EQ((*r)->first, 95u);
  r = parse_range("bytes=50-5000", 100);
  EXPECT_EQ((*r)->last, 99u);
  for (const char* bad : {"bytes=100-", "bytes=5-1", "bytes=a-b", "bytes=1-2,4-5", "items=1-2",
                          "bytes=-0", "bytes=-"}) {
    EXPECT_FALSE(parse_range(bad, 100)) << bad;
  }
}

}  // namespace
}  // namespace nj::api
