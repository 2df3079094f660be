// People in what moved: OpenCV's HOG people detector (Dalal and Triggs' descriptor with its
// built-in linear SVM; nothing to download), run on the region around the motion only, at a
// size where a person fills the detector's 64×128 window. The only OpenCV in Nightjar, kept
// behind this small interface.
#pragma once

#include <memory>
#include <vector>

#include "detect/motion.h"

namespace nj::detect {

struct Person {
  Box box;
  double weight = 0;  // the SVM's margin: higher is surer
};

class PersonDetector {
 public:
  PersonDetector();
  ~PersonDetector();
  // People inside `region` (grown by a third each way; the whole picture when empty) whose
  // weight reaches min_weight.
  std::vector<Person> find(const GrayPicture& picture, Box region, double min_weight = 0.5);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nj::detect
