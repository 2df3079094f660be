#include "device/stream_tokens.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace nj::device {
namespace {

TEST(StreamTokens, BoundToSerialPurposeSubjectGenerationAndTime) {
  ManualClock clock(1'000'000);
  auto tokens = StreamTokens::open(
      std::filesystem::temp_directory_path() / ("nj-keys-" + std::to_string(::getpid())), clock);
  ASSERT_TRUE(tokens) << tokens.error();
  const auto t = tokens->issue("CAM1", StreamPurpose::kPlay, "0a1b", 3, 60'000);
  const auto claims = tokens->verify(t, "CAM1", StreamPurpose::kPlay);
  ASSERT_TRUE(claims);
  EXPECT_EQ(claims->subject, "0a1b");
  EXPECT_EQ(claims->generation, 3);
  EXPECT_EQ(claims->expires_at, 1'060'000);
  EXPECT_FALSE(tokens->verify(t, "CAM2", StreamPurpose::kPlay)) << "another device";
  EXPECT_FALSE(tokens->verify(t, "CAM1", StreamPurpose::kPush)) << "another purpose";
  EXPECT_FALSE(tokens->verify(t + "x", "CAM1", StreamPurpose::kPlay));
  // Changing any claim in the text breaks the tag.
  const auto tag = t.substr(t.rfind('.') + 1);
  EXPECT_FALSE(tokens->verify("99999999999999.3.0a1b." + tag, "CAM1", StreamPurpose::kPlay));
  EXPECT_FALSE(tokens->verify("1060000.4.0a1b." + tag, "CAM1", StreamPurpose::kPlay))
      << "another binding";
  EXPECT_FALSE(tokens->verify("1060000.3.ffff." + tag, "CAM1", StreamPurpose::kPlay))
      << "another person";
  EXPECT_TRUE(tokens->verify("1060000.3.0a1b." + tag, "CAM1", StreamPurpose::kPlay));
  for (const char* bad : {"", "...", "1.2.3", "-1.3.0a1b.x", "1060000.-3.0a1b.x", "1060000.3.a b.x",
                          "1060000.3..x"}) {
    EXPECT_FALSE(tokens->verify(bad, "CAM1", StreamPurpose::kPlay)) << bad;
  }
  clock.advance_ms(60'000);
  EXPECT_FALSE(tokens->verify(t, "CAM1", StreamPurpose::kPlay)) << "expired";
}

TEST(StreamTokens, KeyPersistsAcrossOpens) {
  ManualClock clock(0);
  const auto dir =
      std::filesystem::temp_directory_path() / ("nj-keys2-" + std::to_string(::getpid()));
  auto a = StreamTokens::open(dir, clock);
  auto b = StreamTokens::open(dir, clock);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(b->verify(a->issue("C", StreamPurpose::kPlay, kOperatorSubject, 0, 1000), "C",
                        StreamPurpose::kPlay));
  EXPECT_EQ(std::filesystem::status(dir / "stream-token.key").permissions() &
                std::filesystem::perms::group_all,
            std::filesystem::perms::none);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nj::device
