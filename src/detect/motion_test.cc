#include "detect/motion.h"

#include <gtest/gtest.h>

namespace nj::detect {
namespace {

using nlohmann::json;

GrayPicture scene(int w = 320, int h = 180, uint8_t level = 60) {
  GrayPicture p;
  p.width = w;
  p.height = h;
  p.pixels.assign(static_cast<size_t>(w) * h, level);
  // Some texture, so a picture is not one flat grey.
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      p.pixels[static_cast<size_t>(y) * w + x] = static_cast<uint8_t>(level + (x * 7 + y * 3) % 20);
    }
  }
  return p;
}

void box(GrayPicture& p, int x, int y, int w, int h, uint8_t level) {
  for (int yy = y; yy < y + h && yy < p.height; ++yy) {
    for (int xx = x; xx < x + w && xx < p.width; ++xx) {
      p.pixels[static_cast<size_t>(yy) * p.width + xx] = level;
    }
  }
}

TEST(DetectionSettings, ReadsZonesAndRefusesWhatItCannotUse) {
  auto s = read_detection(
      json::parse(R"({"enabled":true,"min_area":0.02,"threshold":30,"person":false,)"
                  R"("zones":[{"name":"drive","points":[[0,0.5],[0.5,0.5],[0.5,1],[0,1]]}]})"));
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->enabled);
  EXPECT_FALSE(s->person);
  ASSERT_EQ(s->zones.size(), 1u);
  EXPECT_EQ(s->zones[0].points.size(), 4u);
  EXPECT_EQ(to_json(*read_detection(to_json(*s))), to_json(*s)) << "its own form reads back";
  for (const char* bad : {
           R"({"zones":[{"points":[[0,0],[1,1]]}]})",          // two points
           R"({"zones":[{"points":[[0,0],[1,1],[2,0]]}]})",    // outside the picture
           R"({"zones":[{"points":[[0,0],[1,1],["a",0]]}]})",  // not a number
           R"({"zones":"all"})",
           R"({"min_area":0})",
           R"({"threshold":500})",
           R"({"sensitivity":3})",
           R"([])",
       }) {
    EXPECT_FALSE(read_detection(json::parse(bad))) << bad;
  }
  const auto err = read_detection(json::parse(R"({"zones":[{"points":[[0,0]]}]})")).error();
  EXPECT_EQ(err.field, "zones.0.points");
}

TEST(Inside, FollowsThePolygon) {
  const std::vector<Point> l = {{0, 0}, {1, 0}, {1, 0.5}, {0.5, 0.5}, {0.5, 1}, {0, 1}};
  EXPECT_TRUE(inside(l, 0.25, 0.75));
  EXPECT_TRUE(inside(l, 0.75, 0.25));
  EXPECT_FALSE(inside(l, 0.75, 0.75));
}

TEST(MotionDetector, SeesWhatMovesAndNotAStillScene) {
  DetectionSettings s;
  MotionDetector d(s);
  EXPECT_FALSE(d.feed(scene()).moving) << "the first picture sets the background";
  EXPECT_FALSE(d.feed(scene()).moving);
  auto p = scene();
  box(p, 100, 40, 40, 100, 230);  // someone walks in
  const auto v = d.feed(p);
  EXPECT_TRUE(v.moving);
  EXPECT_NEAR(v.box.x, 96, 8);
  EXPECT_NEAR(v.box.width, 48, 16);
  EXPECT_GT(v.area, 0.05);
  // Gone again: no motion once the scene is as before.
  EXPECT_FALSE(d.feed(scene()).moving);
}

TEST(MotionDetector, OnlyInsideItsZonesAndOnlyAboveTheMinimumArea) {
  DetectionSettings s;
  s.zones = {{"right", {{0.5, 0}, {1, 0}, {1, 1}, {0.5, 1}}}};
  MotionDetector d(s);
  d.feed(scene());
  auto left = scene();
  box(left, 20, 40, 60, 100, 230);
  EXPECT_FALSE(d.feed(left).moving) << "outside the zone";
  d.feed(scene());
  auto right = scene();
  box(right, 220, 40, 60, 100, 230);
  EXPECT_TRUE(d.feed(right).moving);
  // A leaf: one cell is below the minimum area.
  DetectionSettings big;
  big.min_area = 0.05;
  MotionDetector e(big);
  e.feed(scene());
  auto leaf = scene();
  box(leaf, 200, 100, 8, 8, 230);
  EXPECT_FALSE(e.feed(leaf).moving);
}

TEST(MotionDetector, SaysWhichZonesSomethingMovedIn) {
  DetectionSettings s;
  s.zones = {{"drive", {{0, 0}, {0.5, 0}, {0.5, 1}, {0, 1}}},      // left half
             {"", {{0.5, 0}, {1, 0}, {1, 0.5}, {0.5, 0.5}}},       // top right, no name
             {"door", {{0.5, 0.5}, {1, 0.5}, {1, 1}, {0.5, 1}}}};  // bottom right
  MotionDetector d(s);
  d.feed(scene());
  auto p = scene();
  box(p, 220, 10, 40, 50, 230);  // top right only
  auto v = d.feed(p);
  ASSERT_TRUE(v.moving);
  EXPECT_EQ(v.zones, (std::vector<std::string>{"zone 2"}));
  d.feed(scene());
  d.feed(scene());
  p = scene();
  box(p, 120, 100, 80, 60, 230);  // across the middle: the left half and the door
  v = d.feed(p);
  ASSERT_TRUE(v.moving);
  EXPECT_EQ(v.zones, (std::vector<std::string>{"drive", "door"}));
  // Without zones the whole picture is watched, and no zone is named.
  MotionDetector whole(DetectionSettings{});
  whole.feed(scene());
  v = whole.feed(p);
  EXPECT_TRUE(v.moving);
  EXPECT_TRUE(v.zones.empty());
}

TEST(MotionDetector, TheLightsGoingOnAreANewSceneNotMotion) {
  MotionDetector d(DetectionSettings{});
  d.feed(scene(320, 180, 40));
  const auto v = d.feed(scene(320, 180, 160));
  EXPECT_TRUE(v.new_scene);
  EXPECT_FALSE(v.moving);
  EXPECT_FALSE(d.feed(scene(320, 180, 160)).moving) << "the new scene is the background";
}

TEST(MotionDetector, PicturesOfNoUseChangeNothing) {
  MotionDetector d(DetectionSettings{});
  GrayPicture broken;
  broken.width = 320;
  broken.height = 180;
  broken.pixels.resize(10);
  EXPECT_FALSE(d.feed(broken).moving);
  GrayPicture tiny;
  tiny.width = 4;
  tiny.height = 4;
  tiny.pixels.resize(16);
  EXPECT_FALSE(d.feed(tiny).moving);
}

}  // namespace
}  // namespace nj::detect
