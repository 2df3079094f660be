#include "recording/fragment_table.h"

#include <gtest/gtest.h>

namespace nj::recording {
namespace {

TEST(FragmentTable, RoundTripsAndStaysSmall) {
  std::vector<FragmentEntry> entries;
  for (int i = 0; i < 30; ++i) entries.push_back({180'000, 500'000u + i, i % 3 != 2});
  const auto table = encode_fragments(entries);
  EXPECT_LE(table.size(), 30u * 7) << "a minute of 2 s fragments";
  const auto back = decode_fragments(table);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(*back, entries);
}

TEST(FragmentTable, DamagedTablesAreRefused) {
  const auto table = encode_fragments(std::vector<FragmentEntry>{{180'000, 1000, true}});
  EXPECT_FALSE(decode_fragments(std::span(table).first(table.size() - 1)));
  const std::vector<uint8_t> endless(20, 0xff);
  EXPECT_FALSE(decode_fragments(endless));
  EXPECT_TRUE(decode_fragments({})->empty());
}

TEST(FragmentTable, SeekFindsTheKeyframeAtOrBeforeAnInstant) {
  // Fragments of 2 s; the third does not start at a keyframe (a long GOP).
  const std::vector<FragmentEntry> e = {
      {180'000, 100, true}, {180'000, 200, true}, {180'000, 300, false}, {180'000, 400, true}};
  auto at = seek(e, 50, 0);
  ASSERT_TRUE(at);
  EXPECT_EQ(at->index, 0u);
  EXPECT_EQ(at->offset, 50u);
  at = seek(e, 50, 5 * 90'000);  // 5 s: inside the third, which has no keyframe → the second
  EXPECT_EQ(at->index, 1u);
  EXPECT_EQ(at->offset, 150u);
  EXPECT_EQ(at->start_ticks, 180'000u);
  at = seek(e, 50, 100 * 90'000);  // past the end: the last keyframe
  EXPECT_EQ(at->index, 3u);
  EXPECT_EQ(at->offset, 650u);
  EXPECT_FALSE(seek(std::vector<FragmentEntry>{{1, 1, false}}, 0, 0));
}

}  // namespace
}  // namespace nj::recording
