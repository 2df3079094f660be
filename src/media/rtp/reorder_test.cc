#include "media/rtp/reorder.h"

#include <gtest/gtest.h>

namespace nj::media::rtp {
namespace {

struct Fixture {
  std::vector<uint16_t> out;
  ReorderBuffer buffer;
  explicit Fixture(ReorderBuffer::Options options = {})
      : buffer([this](const Packet& p) { out.push_back(p.sequence); }, options) {}
  void push(uint16_t sequence, int64_t now_us = 0) {
    std::vector<uint8_t> bytes;
    const uint8_t payload[] = {static_cast<uint8_t>(sequence)};
    write(bytes, 96, false, sequence, 1000, 7, payload);
    auto p = parse(bytes);
    ASSERT_TRUE(p);
    buffer.push(bytes, *p, now_us);
  }
};

TEST(ReorderBuffer, InOrderPassesStraightThrough) {
  Fixture f;
  for (uint16_t s = 65530; s != 5; ++s) f.push(s);
  EXPECT_EQ(f.out.size(), 11u);
  EXPECT_EQ(f.out.front(), 65530);
  EXPECT_EQ(f.out.back(), 4);
  EXPECT_EQ(f.buffer.held(), 0u);
  EXPECT_EQ(f.buffer.stats().reordered, 0u);
}

TEST(ReorderBuffer, SwappedPacketsComeOutInOrder) {
  Fixture f;
  f.push(10);
  f.push(12);
  f.push(11);
  f.push(14);
  f.push(13);
  EXPECT_EQ(f.out, (std::vector<uint16_t>{10, 11, 12, 13, 14}));
  EXPECT_EQ(f.buffer.stats().reordered, 2u);
  EXPECT_EQ(f.buffer.stats().skipped, 0u);
}

TEST(ReorderBuffer, PayloadOfAHeldPacketSurvives) {
  std::vector<uint8_t> payloads;
  ReorderBuffer buffer([&](const Packet& p) { payloads.push_back(p.payload[0]); });
  for (uint16_t s : {1, 3, 2}) {
    std::vector<uint8_t> bytes;
    const uint8_t payload[] = {static_cast<uint8_t>(s * 10)};
    write(bytes, 96, false, s, 0, 7, payload);
    buffer.push(bytes, *parse(bytes), 0);
    bytes.assign(bytes.size(), 0xEE);  // the caller's buffer is reused at once
  }
  EXPECT_EQ(payloads, (std::vector<uint8_t>{10, 20, 30}));
}

TEST(ReorderBuffer, AGapIsGivenUpAfterTheWait) {
  Fixture f(ReorderBuffer::Options(64, 40'000));
  f.push(1, 0);
  f.push(3, 1'000);  // 2 is missing
  f.push(4, 20'000);
  EXPECT_EQ(f.out, (std::vector<uint16_t>{1}));
  f.push(5, 41'000);  // the gap has waited 40 ms since 3 arrived
  EXPECT_EQ(f.out, (std::vector<uint16_t>{1, 3, 4, 5}));
  EXPECT_EQ(f.buffer.stats().skipped, 1u);
  f.push(2, 42'000);  // too late now
  EXPECT_EQ(f.buffer.stats().late, 1u);
  EXPECT_EQ(f.out.size(), 4u);
}

TEST(ReorderBuffer, AFullWindowGivesUpTheOldestGap) {
  Fixture f(ReorderBuffer::Options(8, 1'000'000));
  f.push(0);
  for (uint16_t s = 2; s <= 8; ++s) f.push(s);  // 1 missing; 2..8 held
  EXPECT_EQ(f.out.size(), 1u);
  f.push(9);  // would not fit behind the gap: give it up
  EXPECT_EQ(f.out.size(), 9u);
  EXPECT_EQ(f.out.back(), 9);
  EXPECT_EQ(f.buffer.stats().skipped, 1u);
}

TEST(ReorderBuffer, DuplicatesAreDropped) {
  Fixture f;
  f.push(1);
  f.push(3);
  f.push(3);
  f.push(1);
  f.push(2);
  EXPECT_EQ(f.out, (std::vector<uint16_t>{1, 2, 3}));
  EXPECT_EQ(f.buffer.stats().duplicate, 1u);
  EXPECT_EQ(f.buffer.stats().late, 1u);
}

TEST(ReorderBuffer, ASenderThatStartsOverIsFollowed) {
  Fixture f;
  for (uint16_t s = 1000; s < 1005; ++s) f.push(s);
  f.push(20000);  // a new sequence far ahead
  f.push(20001);
  f.push(100);  // and one far behind
  f.push(101);
  EXPECT_EQ(f.out, (std::vector<uint16_t>{1000, 1001, 1002, 1003, 1004, 20000, 20001, 100, 101}));
}

TEST(ReorderBuffer, FlushPassesOnWhatIsHeld) {
  Fixture f;
  f.push(1);
  f.push(4);
  f.push(3);
  f.buffer.flush();
  EXPECT_EQ(f.out, (std::vector<uint16_t>{1, 3, 4}));
  EXPECT_EQ(f.buffer.held(), 0u);
}

}  // namespace
}  // namespace nj::media::rtp
