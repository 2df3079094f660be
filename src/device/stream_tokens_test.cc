#include "device/stream_tokens.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace nj::device {
namespace {

TEST(StreamTokens, BoundToSerialPurposeAndTime) {
  ManualClock clock(1'000'000);
  auto tokens = StreamTokens::open(
      std::filesystem::temp_directory_path() / ("nj-keys-" + std::to_string(::getpid())), clock);
  ASSERT_TRUE(tokens) << tokens.error();
  const auto t = tokens->issue("CAM1", StreamPurpose::kPush, 60'000);
  EXPECT_TRUE(tokens->check(t, "CAM1", StreamPurpose::kPush));
  EXPECT_FALSE(tokens->check(t, "CAM2", StreamPurpose::kPush)) << "another device";
  EXPECT_FALSE(tokens->check(t, "CAM1", StreamPurpose::kPlay)) << "another purpose";
  EXPECT_FALSE(tokens->check(t + "x", "CAM1", StreamPurpose::kPush));
  EXPECT_FALSE(
      tokens->check("99999999999999." + t.substr(t.find('.') + 1), "CAM1", StreamPurpose::kPush))
      << "a changed expiry breaks the tag";
  EXPECT_FALSE(tokens->check("", "CAM1", StreamPurpose::kPush));
  clock.advance_ms(60'000);
  EXPECT_FALSE(tokens->check(t, "CAM1", StreamPurpose::kPush)) << "expired";
}

TEST(StreamTokens, KeyPersistsAcrossOpens) {
  ManualClock clock(0);
  const auto dir =
      std::filesystem::temp_directory_path() / ("nj-keys2-" + std::to_string(::getpid()));
  auto a = StreamTokens::open(dir, clock);
  auto b = StreamTokens::open(dir, clock);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(b->check(a->issue("C", StreamPurpose::kPlay, 1000), "C", StreamPurpose::kPlay));
  EXPECT_EQ(std::filesystem::status(dir / "stream-token.key").permissions() &
                std::filesystem::perms::group_all,
            std::filesystem::perms::none);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nj::device
