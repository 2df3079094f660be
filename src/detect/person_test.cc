#include "detect/person.h"

#include <gtest/gtest.h>

#include "detect/service.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-enum-enum-conversion"
#include <opencv2/imgproc.hpp>
#pragma GCC diagnostic pop

namespace nj::detect {
namespace {

// A walking figure as the simulator draws one: head, neck, shoulders wider than hips, arms,
// legs apart; `h` pixels tall.
void figure(cv::Mat& m, int cx, int top, int h, int shade) {
  const double u = h / 8.0;
  const auto at = [&](double x, double y) { return cv::Point(cx + int(u * x), top + int(u * y)); };
  cv::ellipse(m, at(0, 0.5), cv::Size(int(u * 0.38), int(u * 0.5)), 0, 0, 360, cv::Scalar(shade),
              cv::FILLED);
  cv::rectangle(m, at(-0.15, 0.9), at(0.15, 1.2), cv::Scalar(shade), cv::FILLED);
  const std::vector<cv::Point> torso = {at(-0.95, 1.3), at(0.95, 1.3), at(0.7, 4.1), at(-0.7, 4.1)};
  cv::fillConvexPoly(m, torso, cv::Scalar(shade));
  cv::line(m, at(-0.9, 1.45), at(-1.15, 4.0), cv::Scalar(shade), int(u * 0.38));
  cv::line(m, at(0.9, 1.45), at(1.15, 4.0), cv::Scalar(shade), int(u * 0.38));
  cv::line(m, at(-0.35, 4.0), at(-0.8, 7.8), cv::Scalar(shade), int(u * 0.5));
  cv::line(m, at(0.35, 4.0), at(0.8, 7.8), cv::Scalar(shade), int(u * 0.5));
}

GrayPicture picture_of(const cv::Mat& m) {
  GrayPicture p;
  p.width = m.cols;
  p.height = m.rows;
  p.pixels.assign(m.data, m.data + m.total());
  return p;
}

cv::Mat background() {
  cv::Mat m(360, 640, CV_8UC1);
  for (int y = 0; y < 360; ++y) m.row(y).setTo(cv::Scalar(40 + y * 60 / 360));
  return m;
}

TEST(PersonDetector, FindsAPersonWhereSomethingMoved) {
  PersonDetector people;
  for (int height : {130, 180, 240}) {
    cv::Mat m = background();
    figure(m, 400, 80, height, 225);
    const auto found = people.find(picture_of(m), {370, 100, 60, height - 40});
    ASSERT_FALSE(found.empty()) << height << " px tall";
    EXPECT_NEAR(found[0].box.x + found[0].box.width / 2, 400, 40);
  }
}

TEST(PersonDetector, BoxesAreNotPeople) {
  PersonDetector people;
  cv::Mat m = background();
  // The simulator's scene: coloured boxes, and its plain intruder (a tall white box).
  cv::rectangle(m, cv::Rect(100, 120, 60, 60), cv::Scalar(180), cv::FILLED);
  cv::rectangle(m, cv::Rect(300, 240, 120, 30), cv::Scalar(150), cv::FILLED);
  cv::rectangle(m, cv::Rect(400, 90, 64, 180), cv::Scalar(235), cv::FILLED);
  EXPECT_TRUE(people.find(picture_of(m), {}).empty());
  EXPECT_TRUE(people.find(picture_of(m), {400, 90, 64, 180}).empty());
}

// HOG's cost is bounded on a scene that moves all the time: at once, again after one
// interval, then every 2 and 3 intervals while no one is found; every 2 while someone is.
TEST(PersonChecks, AreLessOftenWhileAMovingSceneHasNoOneInIt) {
  EXPECT_EQ(person_check_every(false, 0, 3), 1);
  EXPECT_EQ(person_check_every(false, 1, 3), 1);
  EXPECT_EQ(person_check_every(false, 2, 3), 2);
  EXPECT_EQ(person_check_every(false, 3, 3), 3);
  EXPECT_EQ(person_check_every(false, 50, 3), 3);
  EXPECT_EQ(person_check_every(true, 50, 3), 2);
  EXPECT_EQ(person_check_every(false, 5, 0), 1) << "no backoff asked for";
}

}  // namespace
}  // namespace nj::detect
