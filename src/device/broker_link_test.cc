#include "device/broker_link.h"

#include <gtest/gtest.h>

namespace nj::device {
namespace {

using nlohmann::json;

TEST(DeviceEvents, AMotionStartAndEndAreRead) {
  const auto start =
      parse_device_event(json{{"kind", "motion"}, {"state", "start"}, {"score", 0.7}});
  ASSERT_TRUE(start);
  EXPECT_EQ(start->kind, "motion");
  EXPECT_TRUE(start->active);
  EXPECT_DOUBLE_EQ(start->score, 0.7);
  const auto end = parse_device_event(json{{"kind", "motion"}, {"state", "end"}});
  ASSERT_TRUE(end);
  EXPECT_FALSE(end->active);
  EXPECT_EQ(end->score, 0);
}

TEST(DeviceEvents, AnythingMalformedIsIgnored) {
  for (const auto& bad :
       {json(nullptr), json::array(), json("motion"), json{{"kind", "motion"}},
        json{{"state", "start"}}, json{{"kind", "motion"}, {"state", "begin"}},
        json{{"kind", "Motion!"}, {"state", "start"}}, json{{"kind", ""}, {"state", "start"}},
        json{{"kind", std::string(33, 'a')}, {"state", "start"}},
        json{{"kind", 7}, {"state", "start"}},
        json{{"kind", "motion"}, {"state", "start"}, {"score", 1.5}},
        json{{"kind", "motion"}, {"state", "start"}, {"score", -0.1}},
        json{{"kind", "motion"}, {"state", "start"}, {"score", "high"}}}) {
    EXPECT_FALSE(parse_device_event(bad)) << bad.dump();
  }
}

}  // namespace
}  // namespace nj::device
