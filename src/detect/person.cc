#include "detect/person.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-enum-enum-conversion"
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#pragma GCC diagnostic pop

#include <algorithm>

namespace nj::detect {

struct PersonDetector::Impl {
  cv::HOGDescriptor hog;
};

PersonDetector::PersonDetector() : impl_(std::make_unique<Impl>()) {
  impl_->hog.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector());
  cv::setNumThreads(1);  // one core's worth per camera at most: the budget is ours to keep
}

PersonDetector::~PersonDetector() = default;

std::vector<Person> PersonDetector::find(const GrayPicture& picture, Box region,
                                         double min_weight) {
  std::vector<Person> out;
  if (picture.width < 64 || picture.height < 128) return out;
  cv::Mat image(picture.height, picture.width, CV_8UC1,
                const_cast<uint8_t*>(picture.pixels.data()));
  if (region.width <= 0 || region.height <= 0) region = {0, 0, picture.width, picture.height};
  // Grown by a third each way: motion cells cover the moving parts, a person is more.
  const int gx = region.width / 3, gy = region.height / 3;
  int x0 = std::max(0, region.x - gx), y0 = std::max(0, region.y - gy);
  int x1 = std::min(picture.width, region.x + region.width + gx);
  int y1 = std::min(picture.height, region.y + region.height + gy);
  // At least the detector's window, with a margin.
  if (x1 - x0 < 80) {
    x0 = std::max(0, (x0 + x1) / 2 - 40);
    x1 = std::min(picture.width, x0 + 80);
  }
  if (y1 - y0 < 144) {
    y0 = std::max(0, (y0 + y1) / 2 - 72);
    y1 = std::min(picture.height, y0 + 144);
  }
  if (x1 - x0 < 64 || y1 - y0 < 128) return out;
  const cv::Mat roi = image(cv::Rect(x0, y0, x1 - x0, y1 - y0));
  std::vector<cv::Rect> found;
  std::vector<double> weights;
  impl_->hog.detectMultiScale(roi, found, weights, 0, cv::Size(8, 8), cv::Size(16, 16), 1.05, 2);
  for (size_t i = 0; i < found.size() && i < weights.size(); ++i) {
    if (weights[i] < min_weight) continue;
    out.push_back(
        {{found[i].x + x0, found[i].y + y0, found[i].width, found[i].height}, weights[i]});
  }
  return out;
}

}  // namespace nj::detect
