#include "talk/talk_service.h"

#include <gtest/gtest.h>

namespace nj::talk {
namespace {

struct Heard {
  std::vector<std::vector<uint8_t>> packets;
  int ended = 0;
};

class TalkServiceTest : public ::testing::Test {
 protected:
  TalkServiceTest()
      : clock_(1'800'000'000'000),
        service_(
            clock_,
            [this](const std::string& serial,
                   std::function<void(std::optional<std::string>)> done) {
              asked_.push_back(serial);
              answers_.push_back(std::move(done));
            },
            [this](const CallRecord& r) { records_.push_back(r); }) {}

  Caller caller(const std::string& user, bool owner = false) {
    return {"CAM1", "dev-1", user, user + "@example.org", owner};
  }
  TalkService::Handlers handlers(std::vector<std::string>& ended, int& listening) {
    return {[&ended](std::string_view why) { ended.emplace_back(why); },
            [&listening] { ++listening; }};
  }
  std::unique_ptr<media::rtsp::TalkLines::Listener> camera(Heard& heard) {
    return service_.listen(
        "CAM1", [&heard](auto packet) { heard.packets.push_back(*packet); },
        [&heard] { ++heard.ended; });
  }

  ManualClock clock_;
  TalkService service_;
  std::vector<std::string> asked_;
  std::vector<std::function<void(std::optional<std::string>)>> answers_;
  std::vector<CallRecord> records_;
};

TEST_F(TalkServiceTest, WhatIsSaidReachesTheCameraAsItCameAndOnlyTheCallIsRecorded) {
  EXPECT_FALSE(service_.format("CAM1")) << "no one talks yet";
  Heard early;
  EXPECT_EQ(camera(early), nullptr);
  std::vector<std::string> ended;
  int listening = 0;
  auto call = service_.open(caller("alice"), false, handlers(ended, listening));
  ASSERT_TRUE(call);
  ASSERT_EQ(asked_, std::vector<std::string>{"CAM1"}) << "the camera is asked to listen";
  answers_[0](std::nullopt);
  const auto format = service_.format("CAM1");
  ASSERT_TRUE(format);
  EXPECT_EQ(format->encoding, "PCMU");
  EXPECT_EQ(format->clock_rate, 8000u);
  Heard heard;
  auto listener = camera(heard);
  ASSERT_NE(listener, nullptr);
  EXPECT_EQ(listening, 1);

  std::vector<uint8_t> twenty_ms(160);
  for (size_t i = 0; i < twenty_ms.size(); ++i) twenty_ms[i] = static_cast<uint8_t>(i);
  ASSERT_TRUE((*call)->audio(twenty_ms));
  ASSERT_TRUE((*call)->audio(twenty_ms));
  ASSERT_EQ(heard.packets.size(), 2u);
  // RTP: version 2, payload type 0 (PCMU), the samples as they came, 160 samples apart.
  const auto& first = heard.packets[0];
  ASSERT_EQ(first.size(), 12u + 160u);
  EXPECT_EQ(first[0] >> 6, 2);
  EXPECT_EQ(first[1] & 0x7f, 0);
  EXPECT_TRUE(std::equal(twenty_ms.begin(), twenty_ms.end(), first.begin() + 12));
  const auto timestamp = [](const std::vector<uint8_t>& p) {
    return (uint32_t{p[4]} << 24) | (uint32_t{p[5]} << 16) | (uint32_t{p[6]} << 8) | p[7];
  };
  EXPECT_EQ(timestamp(heard.packets[1]) - timestamp(first), 160u);

  // Refused: nothing, too much in one message, or further ahead of real time than a second.
  EXPECT_FALSE((*call)->audio({}));
  EXPECT_FALSE((*call)->audio(std::vector<uint8_t>(TalkService::kMaxFrameBytes + 1)));
  // 320 samples sent in no time; 6,400 more (1,280 left of the second allowed ahead).
  for (int i = 0; i < 4; ++i) EXPECT_TRUE((*call)->audio(std::vector<uint8_t>(1600)));
  EXPECT_FALSE((*call)->audio(std::vector<uint8_t>(1600))) << "a sender running ahead is cut";
  const size_t heard_before = heard.packets.size();
  clock_.advance_ms(100);  // 800 more samples of real time
  EXPECT_TRUE((*call)->audio(std::vector<uint8_t>(1600)));
  EXPECT_EQ(heard.packets.size(), heard_before + 2) << "800 samples a packet";

  clock_.advance_ms(4'900);
  call->reset();  // hung up
  EXPECT_EQ(heard.ended, 1) << "the camera stops listening";
  EXPECT_TRUE(ended.empty()) << "a caller who hangs up is not told";
  ASSERT_EQ(records_.size(), 1u);
  EXPECT_EQ(records_[0].user_id, "alice");
  EXPECT_EQ(records_[0].device_id, "dev-1");
  EXPECT_EQ(records_[0].duration_ms, 5'000);
  EXPECT_FALSE(service_.format("CAM1"));
  EXPECT_EQ(service_.calls(), 0u);
}

TEST_F(TalkServiceTest, OneSpeakerAtATimeAndTheOwnerMayTakeTheLine) {
  std::vector<std::string> alice_ended, bob_ended, owner_ended;
  int alice_listening = 0, bob_listening = 0, owner_listening = 0;
  auto alice = service_.open(caller("alice"), false, handlers(alice_ended, alice_listening));
  ASSERT_TRUE(alice);
  Heard heard;
  auto listener = camera(heard);
  // Bob is told the line is busy, and by whom; taking is the owner's alone.
  auto bob = service_.open(caller("bob"), true, handlers(bob_ended, bob_listening));
  ASSERT_FALSE(bob);
  EXPECT_EQ(bob.error().holder, "alice@example.org");
  EXPECT_FALSE(bob.error().holder_is_owner);
  auto owner_asks =
      service_.open(caller("olga", true), false, handlers(owner_ended, owner_listening));
  EXPECT_FALSE(owner_asks) << "without take, even the owner waits";
  clock_.advance_ms(2'000);
  auto owner = service_.open(caller("olga", true), true, handlers(owner_ended, owner_listening));
  ASSERT_TRUE(owner);
  EXPECT_EQ(alice_ended, std::vector<std::string>{"taken"});
  EXPECT_EQ(owner_listening, 1) << "the camera listens on: the owner is heard at once";
  EXPECT_EQ(heard.ended, 0);
  EXPECT_FALSE((*alice)->audio(std::vector<uint8_t>(160))) << "alice's line was taken";
  EXPECT_TRUE((*owner)->audio(std::vector<uint8_t>(160)));
  EXPECT_EQ(heard.packets.size(), 1u);
  ASSERT_EQ(records_.size(), 1u);
  EXPECT_EQ(records_[0].user_id, "alice");
  EXPECT_EQ(records_[0].duration_ms, 2'000);
  alice->reset();  // her hanging up afterwards ends nothing
  EXPECT_EQ(service_.calls(), 1u);
  EXPECT_EQ(records_.size(), 1u);
  EXPECT_EQ(asked_.size(), 1u) << "the camera was asked once";
}

TEST_F(TalkServiceTest, ACameraThatCannotListenEndsTheCall) {
  std::vector<std::string> ended;
  int listening = 0;
  auto call = service_.open(caller("alice"), false, handlers(ended, listening));
  ASSERT_TRUE(call);
  answers_[0](std::string("offline"));
  EXPECT_EQ(ended, std::vector<std::string>{"camera"});
  EXPECT_EQ(service_.calls(), 0u);
  EXPECT_FALSE((*call)->audio(std::vector<uint8_t>(160)));
  EXPECT_EQ(records_.size(), 1u);
  // The server ends a call (privacy mode turned on): the holder is told.
  std::vector<std::string> again_ended;
  auto again = service_.open(caller("alice"), false, handlers(again_ended, listening));
  ASSERT_TRUE(again);
  service_.end("CAM1");
  EXPECT_EQ(again_ended, std::vector<std::string>{"ended"});
  EXPECT_EQ(records_.size(), 2u);
}

}  // namespace
}  // namespace nj::talk
